"""Cleanmail tasks (5.12: mails the platform sends to a user) and temporary authentication tokens (5.13): actions,
not infrastructure. A runbook or a program calls them explicitly; inside a Pulumi program they do nothing during
preview (they answer None), so a preview never mails anyone. `User(send_welcome_mail=True)` runs the welcome
task once, after the account is created."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import pulumi
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from ..errors import MailinfraError
from ..validation import EmailAddress
from .lookups import _client

if TYPE_CHECKING:
    from .client import CleanmailClient

TaskCommand = Literal["send_welcome_mail", "send_token_mail", "send_password_reset_mail", "send_spamfight_spam_mail",
                      "send_spamfight_clean_mail", "remediate_message"]
MAIL_TASKS = ("send_welcome_mail", "send_token_mail", "send_password_reset_mail")
ValidityHours = Annotated[int, Field(ge=1, le=8760)]  # our bound: at most a year; the docs give none


class TaskModel(BaseModel):
    """The body of `POST /tasks`; the mail tasks' params are checked here, before anything is sent."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on first use, as every model here

    command: TaskCommand
    params: dict[str, Any]


class _MailTaskParams(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)

    recipient: EmailAddress
    validity: ValidityHours | None = None


class AuthToken(BaseModel):
    """A temporary authentication token (5.13): what to log a user in with, until `expire_at`."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)

    token: str | None = Field(default=None, description="The token's value (a secret: do not log it).")
    expire_at: int | None = Field(default=None, alias="expireAt", description="When it stops working (epoch ms).")
    url: str | None = Field(default=None, description="An authenticated URL to the application.")


def _in_preview() -> bool:
    """Whether this runs inside a Pulumi program's preview (False in a plain script)."""
    return pulumi.runtime.is_dry_run()


def _valid(kind: Any, value: Any, name: str) -> Any:
    try:
        return TypeAdapter(kind).validate_python(value)
    except PydanticValidationError as exc:
        raise MailinfraError(f"invalid {name}: {exc.errors()[0]['msg']} (got {value!r})") from None


def _checked(command: str, params: dict[str, Any]) -> TaskModel:
    try:
        task = TaskModel(command=command, params=params)  # type: ignore[arg-type]
        if task.command in MAIL_TASKS:
            _MailTaskParams.model_validate(params)
    except PydanticValidationError as exc:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in exc.errors())
        raise MailinfraError(f"invalid {command} task: {detail}") from None
    return task


def run_task(command: str, params: dict[str, Any], client: CleanmailClient | None = None) -> bool:
    """Launch a task (`POST /tasks`, answered 202: the platform runs it later). Returns False, sending nothing,
    during a program's preview. A task has no id to look it up by, so a request whose answer is lost is not sent
    again (the error says so): sending it twice would mail the user twice."""
    task = _checked(command, params)
    if _in_preview():
        return False
    client = _client(client)
    client.request("POST", client.path("/tasks"), json=task.model_dump(mode="json"))
    return True


def send_welcome_mail(recipient: str, client: CleanmailClient | None = None) -> bool:
    """Mail a user the service's description and a link to set their password."""
    return run_task("send_welcome_mail", {"recipient": recipient}, client)


def send_token_mail(recipient: str, validity_hours: int = 24, client: CleanmailClient | None = None) -> bool:
    """Mail a user a link that logs them in, valid `validity_hours` hours."""
    return run_task("send_token_mail", {"recipient": recipient, "validity": validity_hours}, client)


def send_password_reset_mail(recipient: str, validity_hours: int = 6, client: CleanmailClient | None = None) -> bool:
    """Mail a user a link to reset their password, valid `validity_hours` hours."""
    return run_task("send_password_reset_mail", {"recipient": recipient, "validity": validity_hours}, client)


def temporary_auth_token(username: str | None = None, validity_hours: int = 4,
                         client: CleanmailClient | None = None) -> AuthToken | None:
    """A token that logs `username` (an address; left out: the caller) in for `validity_hours` hours (`GET /token`,
    answered 202). None during a program's preview, or when the platform only mails the token (an empty answer).
    The value is a secret: in a program, wrap it with `pulumi.Output.secret` before exporting it."""
    if username is not None:
        _valid(EmailAddress, username, "username")
    hours = _valid(ValidityHours, validity_hours, "validity_hours")
    if _in_preview():
        return None
    client = _client(client)
    params: dict[str, Any] = {"validity": hours} | ({"username": username} if username else {})
    answer = client.get(client.path("/token"), **params)
    return AuthToken.model_validate(answer) if isinstance(answer, dict) and answer else None
