"""Cleanmail emulator: tasks (5.12, `POST /tasks`, answered 202) and temporary authentication tokens (5.13,
`GET /token`, answered 202), mixed into the backend.

No mail is sent: an accepted task is recorded (the `task` kind, listed by `/_emulator/cleanmail/tasks`) so a test
or a user can see what the platform was asked to do."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from typing import Any

from .common import BadRequest, CleanmailStore, NotFound, Unprocessable, _now_ms

COMMANDS = ("send_welcome_mail", "send_token_mail", "send_password_reset_mail", "send_spamfight_spam_mail",
            "send_spamfight_clean_mail", "remediate_message")
MAIL_COMMANDS = ("send_welcome_mail", "send_token_mail", "send_password_reset_mail")
UNMET = "Operation cannot be done because of not met conditions"


def _validity(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 8760:
        raise BadRequest(f"Invalid parameters: {path} must be a number of hours from 1 to 8760")
    return value


class TaskRules(CleanmailStore):
    """The backend's `task` records and the temporary tokens (not stored: the emulator does not accept them)."""

    def _user_by_email(self, email: str) -> dict[str, Any] | None:
        wanted = email.casefold()
        return next((u for u in self._objects["user"].values() if str(u.get("email", "")).casefold() == wanted), None)

    def run_task(self, body: Any) -> None:
        """POST /tasks: 400 for a malformed task, 422 when its recipient is no enabled account."""
        if not isinstance(body, Mapping):
            raise BadRequest("Invalid parameters: the body must be a Task object {command, params}")
        unknown = sorted(set(body) - {"command", "params"})
        if unknown:
            raise BadRequest(f"Invalid parameters: unknown field(s) {', '.join(unknown)}")
        command, params = body.get("command"), body.get("params")
        if command not in COMMANDS:
            raise BadRequest(f"Invalid parameters: command must be one of {', '.join(COMMANDS)}")
        if not isinstance(params, Mapping):
            raise BadRequest("Invalid parameters: params is required (an object)")
        with self._write():
            if command in MAIL_COMMANDS:
                recipient = params.get("recipient")
                if not isinstance(recipient, str) or "@" not in recipient:
                    raise BadRequest("Invalid parameters: params.recipient must be an email address")
                if "validity" in params:
                    _validity(params["validity"], "params.validity")
                user = self._user_by_email(recipient)
                if user is None or user.get("status") != "ENABLED":
                    raise Unprocessable(f"{UNMET}: no enabled account {recipient}")
            task = {"id": self._new_id("task"), "command": command, "params": copy.deepcopy(dict(params)),
                    "acceptedAt": _now_ms()}
            self._put("task", task)

    def tasks(self) -> list[dict[str, Any]]:
        """Every accepted task, oldest first."""
        with self._lock:
            return sorted((copy.deepcopy(t) for t in self._objects["task"].values()), key=lambda t: t["acceptedAt"])

    def temporary_token(self, params: Mapping[str, str], app_url: str) -> dict[str, Any]:
        """GET /token: an AuthToken for an account whose policy has a quarantine, retention or archive service."""
        raw_validity = params.get("validity") or "4"
        try:
            validity = _validity(int(raw_validity), "validity")
        except ValueError:
            raise BadRequest("validity: must be a number of hours") from None
        username = params.get("username")
        if not username:
            raise BadRequest("username: required (the caller is not a mailbox user)")
        with self._lock:
            user = self._user_by_email(username)
            if user is None:
                raise NotFound("Unknown username")
            domain = self._objects["domain"].get(user["domainId"]) or {}
            policy = self._objects["policy"].get(user.get("policyId") or domain.get("policyId")) or {}
            if not (policy.get("quarantine") or policy.get("retention") or policy.get("archive")):
                raise BadRequest("A problem occured. Possible causes: the account does not have quarantine or "
                                 "retention or archive service.")
        token = secrets.token_urlsafe(24)
        return {"token": token, "expireAt": _now_ms() + validity * 3_600_000,
                "url": f"{app_url.rstrip('/')}/login?token={token}"}
