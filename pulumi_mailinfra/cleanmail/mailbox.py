"""Cleanmail mailbox operations (API section 5.7 "Emails") for runbooks: typed functions a script or a Pulumi
program calls explicitly. They are not resources and nothing here runs on its own.

Each function takes the client last (`client=`); without one, it is built from the stack's `mailinfra:cleanmail*`
settings (or CLEANMAIL_URL / CLEANMAIL_TOKEN), as the look-ups do. A user is an id or an address; a folder is its
path (`INBOX`, `INBOX/Archive`): both are sent as one URL-encoded path segment each.

The doc export lost the field names of ImapMessage, ImapMessageAttachment, ImapMessageAttachmentList and
ImapMessageContent (D16): the names below are our choice, so their models accept missing and unknown fields
(unknown ones stay readable in `model_extra`). Dates are epoch milliseconds, as everywhere in this API."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Annotated, Any, Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .. import errors
from ..validation import EmailAddress, StrictModel
from .client import CleanmailClient
from .lookups import _client

Operator = Literal["AND", "OR", "NOT"]
DEFAULT_SORT = "-sentDate"
# Transport failures where the request never reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


# ----- answer models (tolerant: every field optional, unknown fields kept) ----------------------------------
def _epoch_ms(value: Any) -> Any:
    """Epoch milliseconds from what a server may answer for a date: an integer, a numeric string, an ISO 8601
    date (naive: UTC) or a datetime."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, str) and value.strip():
        value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if isinstance(value, datetime):
        return to_epoch_ms(value)
    return value


def _str_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


EpochMs = Annotated[int, BeforeValidator(_epoch_ms)]
Addresses = Annotated[list[str], BeforeValidator(_str_list)]


def _api_name(name: str, description: str, **kwargs: Any) -> Any:
    """A field named `name` in the API and by its Python name in code: validation and serialisation aliases
    (not `alias`), so a type checker accepts the Python name in constructors."""
    kwargs.setdefault("default", None)
    return Field(validation_alias=name, serialization_alias=name, description=description, **kwargs)


class MailboxAnswer(BaseModel):
    """An answer of the 5.7 API: Python names, the API's camelCase as aliases, nothing required."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ImapFolder(MailboxAnswer):
    name: str | None = Field(default=None, description="Folder name.")
    path: str | None = Field(default=None, description="Folder path (e.g. `INBOX/Archive`).")
    unread_message_count: int | None = _api_name("unreadMessageCount", "Unread messages in the folder (stats only).")
    message_count: int | None = _api_name("messageCount", "Messages in the folder (with stats only).")
    messages_uri: str | None = _api_name("messagesUri", "URI of the folder's messages.")
    children_uri: str | None = _api_name("childrenUri", "URI of the subfolders.")


class ImapMessageAttachment(MailboxAnswer):
    part_id: str | None = _api_name("partId", "Id of the attachment in the message.")
    name: str | None = Field(default=None, description="File name.")
    content_type: str | None = _api_name("contentType", "Content type of the file.")
    size: int | None = Field(default=None, description="Size of the file in bytes.")
    download_uri: str | None = _api_name("downloadUri", "URI to download the file.")
    display_uri: str | None = _api_name("displayUri", "URI to display the file.")


class ImapMessageAttachments(MailboxAnswer):
    """ImapMessageAttachmentList."""

    attachments: list[ImapMessageAttachment] = Field(default_factory=list, description="The attachments.")
    archive_uri: str | None = _api_name("archiveUri", "URI of an archive holding all the attachments.")
    count: int | None = Field(default=None, description="Number of attachments.")


class ImapMessage(MailboxAnswer):
    id: str | None = Field(default=None, description="The mail's id, usable in the message content API.")
    uri: str | None = Field(default=None, description="URI of the mail's details.")
    headers: dict[str, Any] | None = Field(default=None, description="The mail's headers.")
    attachments: ImapMessageAttachments | None = Field(default=None, description="The mail's attachments.")
    seen: bool | None = Field(default=None, description="Read.")
    answered: bool | None = Field(default=None, description="Answered.")
    recent: bool | None = Field(default=None, description="New since the folder was last opened.")
    deleted: bool | None = Field(default=None, description="Marked as deleted.")
    has_attachments: bool | None = _api_name("hasAttachments", "Has attachments.")
    important: bool | None = Field(default=None, description="Marked important by the sender.")
    sent_date: EpochMs | None = _api_name("sentDate", "Sent, epoch milliseconds.")
    subject: str | None = Field(default=None, description="Subject.")
    sender: str | None = _api_name("from", "Sender (`from`).")
    to: Addresses | None = Field(default=None, description="Main recipients.")
    cc: Addresses | None = Field(default=None, description="Copy recipients.")
    bcc: Addresses | None = Field(default=None, description="Blind copy recipients.")
    size: int | None = Field(default=None, description="Size of the message in bytes.")

    @property
    def sent_at(self) -> datetime | None:
        """`sent_date` as an aware UTC datetime."""
        return None if self.sent_date is None else datetime.fromtimestamp(self.sent_date / 1000, timezone.utc)

    def header(self, name: str) -> Any:
        """A header's value by name, case-insensitively (None when absent)."""
        wanted = name.casefold()
        return next((v for k, v in (self.headers or {}).items() if k.casefold() == wanted), None)


class ImapMessageContent(ImapMessage):
    content: str | None = Field(default=None, description="The message's content (to its owner only).")
    source: str | None = Field(default=None, description="The message's source (to its owner only).")


class AttachmentFile(MailboxAnswer):
    uid: str | None = Field(default=None, description="Id of the uploaded file, to name it in SmtpMessage.")
    name: str | None = Field(default=None, description="File name.")
    uri: str | None = Field(default=None, description="URI of the stored file.")
    type: str | None = Field(default=None, description="Content type.")
    size: int | None = Field(default=None, description="Size in bytes.")


# ----- input models (strict: checked before anything is sent) ------------------------------------------------
class SmtpMessageAttachment(StrictModel):
    name: str = Field(min_length=1, description="The file's name as it appears in the mail.")
    uid: str = Field(min_length=1, description="The `uid` an upload answered (`upload_attachment`).")


class SmtpMessage(StrictModel):
    """A mail to send. Our rule (the docs mark nothing required): at least one recipient in to, cc or bcc."""

    to: list[EmailAddress] = Field(default_factory=list, description="Main recipients' addresses.")
    cc: list[EmailAddress] = Field(default_factory=list, description="Copy recipients' addresses.")
    bcc: list[EmailAddress] = Field(default_factory=list, description="Blind copy recipients' addresses.")
    subject: str | None = Field(default=None, description="Subject.")
    body: str | None = Field(default=None, description="HTML content.")
    attachments: list[SmtpMessageAttachment] = Field(default_factory=list,
                                                     description="Files uploaded first with `upload_attachment`.")
    draft_id: str | None = _api_name("draftId", "The draft to delete once sent.")
    origin_id: str | None = _api_name("originId", "The mail replied to or forwarded.")
    ack: bool | None = Field(default=None, description="Ask for a read receipt.")
    important: bool | None = Field(default=None, description="Mark as important.")

    @model_validator(mode="after")
    def _has_a_recipient(self) -> SmtpMessage:
        if not (self.to or self.cc or self.bcc):
            raise ValueError("at least one recipient is needed in to, cc or bcc")
        return self

    def to_api(self) -> dict[str, Any]:
        """The JSON body, in the API's names, without the fields left out."""
        return {k: v for k, v in self.model_dump(by_alias=True, exclude_none=True).items() if v != []}


# ----- helpers ---------------------------------------------------------------------------------------------
def to_epoch_ms(value: datetime | int) -> int:
    """A date as the API's epoch milliseconds; a naive datetime is taken as UTC, an int as epoch ms already."""
    if isinstance(value, bool):
        raise TypeError("a date must be a datetime or epoch milliseconds")
    if isinstance(value, int):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp() * 1000)


def _seg(name: str, value: str) -> str:
    """One URL path segment: everything encoded, `/` and `@` included."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return quote(value, safe="")


def _mail_path(user: str, folder: str, message_id: str | None = None, *tail: str) -> str:
    """`/users/{user}/emails/{folder}[/{message_id}[/{tail}...]]`, each part one encoded segment."""
    path = f"/users/{_seg('user', user)}/emails/{_seg('folder', folder)}"
    if message_id is not None:
        path += f"/{_seg('message_id', message_id)}"
    return path + "".join(f"/{_seg('part_id', part)}" for part in tail)


class ReleaseRefusedError(errors.ValidationError):
    """5.7.9 answered 412: the mail's infection and the X-Virus-Lover header disagree."""


# ----- 5.7.6 / 5.7.7 folders ----------------------------------------------------------------------------------
def mail_folders(user: str, *, stats: bool = False, parent: str | None = None,
                 client: CleanmailClient | None = None) -> list[ImapFolder]:
    """The user's IMAP folders at the root, or under `parent` (e.g. "INBOX"); `stats` adds the message counts."""
    client = _client(client)
    path = f"/users/{_seg('user', user)}/emails/folders"
    if parent is not None:
        path += f"/{_seg('parent', parent)}"
    answer = client.request("GET", client.path(path), params={"fields": "STATS"} if stats else None)
    if isinstance(answer, Mapping):  # not the documented List[ImapFolder]: an object holding it, else an empty {}
        answer = answer.get("folders", [] if not answer else None)
    if not isinstance(answer, list):
        raise errors.MailinfraError(f"cleanmail GET {path}: expected a list of folders, got {answer!r:.200}")
    return [ImapFolder.model_validate(item) for item in answer]


# ----- 5.7.8 folder content -------------------------------------------------------------------------------------
def folder_messages(user: str, folder: str, *, sort: str = DEFAULT_SORT, received_after: datetime | int | None = None,
                    received_before: datetime | int | None = None, sender: str | None = None, to: str | None = None,
                    cc: str | None = None, subject: str | None = None, body: str | None = None,
                    operator: Operator = "AND", message_id: str | None = None, limit: int | None = None,
                    client: CleanmailClient | None = None) -> list[ImapMessage]:
    """The folder's messages, every page followed (`offset` / `pageSize`), at most `limit`. `sender`, `to`, `cc`,
    `subject`, `body` and `message_id` are searches combined by `operator` (AND, OR, NOT); the dates bound the
    search (a datetime, naive meaning UTC, or epoch ms). `sort` is a field, `-` first to reverse."""
    if operator not in ("AND", "OR", "NOT"):
        raise ValueError(f"operator must be AND, OR or NOT; got {operator!r}")
    if limit is not None and limit < 0:
        raise ValueError("limit must be >= 0")
    client = _client(client)
    search = {"sort": sort, "from": sender, "to": to, "cc": cc, "subject": subject, "body": body, "id": message_id,
              "receivedAfter": None if received_after is None else to_epoch_ms(received_after),
              "receivedBefore": None if received_before is None else to_epoch_ms(received_before)}
    params = {k: v for k, v in search.items() if v is not None}
    if any(k in params for k in ("from", "to", "cc", "subject", "body", "id")):
        params["operator"] = operator
    items: Iterable[dict[str, Any]] = client.list_all(_mail_path(user, folder), "messages", **params)
    if limit is not None:
        items = itertools.islice(items, limit)
    return [ImapMessage.model_validate(item) for item in items]


# ----- 5.7.5 one mail ------------------------------------------------------------------------------------------
def mail(user: str, folder: str, message_id: str, *, fields: str | Sequence[str] | None = None,
         client: CleanmailClient | None = None) -> ImapMessageContent:
    """One mail of the folder, by its id, Message-ID or X-Fuglu-Id. `fields` ("HEADERS" by the API's default;
    a list is sent comma-separated) chooses what is answered."""
    client = _client(client)
    params = None if fields is None else {"fields": fields if isinstance(fields, str) else ",".join(fields)}
    answer = client.request("GET", client.path(_mail_path(user, folder, message_id)), params=params)
    return ImapMessageContent.model_validate(answer)


# ----- 5.7.9 release -------------------------------------------------------------------------------------------
def release_mail(user: str, folder: str, fuglu_id: str, *, infected: bool = False,
                 client: CleanmailClient | None = None) -> None:
    """Deliver a held mail (e.g. from Quarantine) to the user's mailbox, by its X-Fuglu-Id or Message-ID.
    `infected=True` sends `X-Virus-Lover: true`, which the API requires for an infected mail and refuses for a
    clean one (ReleaseRefusedError, quoting the API, either way)."""
    client = _client(client)
    path = client.path(_mail_path(user, folder, fuglu_id, "release"))
    try:
        client.request("POST", path, headers={"X-Virus-Lover": "true"} if infected else None)
    except errors.ApiError as exc:
        if exc.status != 412:
            raise
        hint = ("the mail is not infected: release it without infected=True" if infected else
                "the mail is infected: release it with infected=True (X-Virus-Lover) only if you mean to deliver it")
        raise ReleaseRefusedError(exc.service, exc.method, exc.path, exc.status, exc.code,
                                  [*exc.messages, hint]) from exc


# ----- 5.7.10 send -----------------------------------------------------------------------------------------------
def send_mail(user: str, message: SmtpMessage | Mapping[str, Any], *, client: CleanmailClient | None = None) -> Any:
    """Send a mail as `user` (id or address). `message` is checked before anything is sent (pydantic
    ValidationError): addresses, at least one recipient, attachments as uploads' `{name, uid}`. Answers what the
    API answers (the emulator: the Message-ID)."""
    checked = message if isinstance(message, SmtpMessage) else SmtpMessage.model_validate(dict(message))
    client = _client(client)
    return client.request("POST", client.path(f"/users/{_seg('user', user)}/emails/send"), json=checked.to_api())


# ----- 5.7.11 / 5.7.4 / 5.7.1 uploaded attachments ----------------------------------------------------------------
def upload_attachment(filename: str, content: bytes, content_type: str = "application/octet-stream", *,
                      client: CleanmailClient | None = None) -> AttachmentFile:
    """Upload a file to attach to a mail (multipart field `file`); name the answer's `uid` in SmtpMessage. The
    API deletes the file once a mail including it is sent."""
    if not isinstance(content, (bytes, bytearray)):
        raise TypeError("content must be bytes")
    _seg("filename", filename)
    client = _client(client)
    # A retried upload is safe: its duplicate is an unused file the API deletes.
    answer = client.exchange("POST", client.path("/emails/attachments"), idempotent=True,
                             files={"file": (filename, bytes(content), content_type)})
    return AttachmentFile.model_validate(answer.data)


def download_attachment(uid: str, filename: str, *, client: CleanmailClient | None = None) -> bytes:
    """The bytes of an uploaded file."""
    client = _client(client)
    path = f"/emails/attachments/{_seg('uid', uid)}/{_seg('filename', filename)}"
    return bytes(client.exchange("GET", client.path(path), raw=True).data)


def delete_attachment(uid: str, filename: str, *, client: CleanmailClient | None = None) -> None:
    """Delete an uploaded file (one never sent)."""
    client = _client(client)
    client.request("DELETE", client.path(f"/emails/attachments/{_seg('uid', uid)}/{_seg('filename', filename)}"))


# ----- 5.7.2 / 5.7.3 a mail's attachments -------------------------------------------------------------------------
def message_attachments(user: str, folder: str, message_id: str, *,
                        client: CleanmailClient | None = None) -> ImapMessageAttachments:
    """The attachments of a mail (names, types, sizes, part ids for `message_attachment`)."""
    client = _client(client)
    answer = client.request("GET", client.path(_mail_path(user, folder, message_id, "attachments")))
    return ImapMessageAttachments.model_validate({"attachments": answer} if isinstance(answer, list) else answer)


def message_attachment(user: str, folder: str, message_id: str, part_id: str, *,
                       client: CleanmailClient | None = None) -> bytes:
    """The bytes of one attachment of a mail, by its part id."""
    client = _client(client)
    path = _mail_path(user, folder, message_id, "attachments", part_id)
    return bytes(client.exchange("GET", client.path(path), raw=True).data)


__all__ = [
    "AttachmentFile", "ImapFolder", "ImapMessage", "ImapMessageAttachment", "ImapMessageAttachments",
    "ImapMessageContent", "ReleaseRefusedError", "SmtpMessage", "SmtpMessageAttachment", "delete_attachment",
    "download_attachment", "folder_messages", "mail", "mail_folders", "message_attachment", "message_attachments",
    "release_mail", "send_mail", "to_epoch_ms", "upload_attachment",
]
