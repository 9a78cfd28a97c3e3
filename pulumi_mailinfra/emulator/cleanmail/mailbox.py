"""Cleanmail emulator: a small fake mailbox per user (5.7 Emails), mixed into the backend.

Store: kind ``mail`` (one object per message: its user and folder, headers with ``Message-ID`` and ``X-Fuglu-Id``,
IMAP flags, ``sentDate`` in epoch ms, addresses, HTML ``content``, the RFC 822 ``source`` and its ``size``, the
``spam`` / ``infected`` tags, attachments with their bytes in base64) and kind ``upload`` (files uploaded to be
attached to a mail: uid, name, type, size, bytes in base64).

Rules (docs/assumptions.md, "Cleanmail mailbox"):

* Every user has the folders ``INBOX``, ``INBOX/Archive``, ``Quarantine`` and ``Sent`` (5.7 offers no way to
  make folders). ``INBOX`` is matched case-insensitively, as IMAP does; the others exactly.
* A mailbox is filled on its first use, deterministically: INBOX holds a welcome mail and a mail with a PDF
  attachment; Quarantine a spam and an infected mail. Messages are never deleted through 5.7, so "the user has
  mail" marks a filled mailbox (a recipient's mailbox is filled before a sent mail is delivered to it).
* A user is an id or an address (case-insensitive): 404 "The user not exist." otherwise; an unknown folder is
  404 "The user or the folder not exist.".
* A message is found in its folder by its ``id``, its Message-ID (with or without ``<>``) or its X-Fuglu-Id.
* Folder content: ``from``, ``to``, ``cc``, ``subject``, ``body`` are case-insensitive substrings, ``id`` is
  exact; ``operator`` combines them (AND: all, OR: any, NOT: none); ``receivedAfter`` / ``receivedBefore`` (epoch
  ms, both inclusive, on ``sentDate``) always restrict; ``sort`` is one of SORT_FIELDS (``send_date`` is taken
  for ``sentDate``, D13), ``-`` reverses; ``offset`` / ``pageSize`` pages with the total.
* Release (5.7.9): 412 when the mail is infected and ``X-Virus-Lover`` is absent, or present while the mail is
  not infected (its presence counts, not its value); a released mail moves to INBOX without its spam tag.
* Send (5.7.10): 400 "Error in given parameters." naming the field; at least one recipient; each attachment
  uid must be an upload, which is deleted once sent; the mail goes to the sender's ``Sent`` and to the INBOX
  of every recipient who is a known user (``bcc`` is kept only in the sender's copy). Answers the Message-ID.
* URIs in answers are paths relative to the API's base URL.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from .common import BadRequest, CleanmailError, CleanmailStore, NotFound, _now_ms, page_window

FOLDERS = ("INBOX", "INBOX/Archive", "Quarantine", "Sent")
OPERATORS = ("AND", "OR", "NOT")
SORT_FIELDS = ("sentDate", "subject", "from", "to", "size")
MAIL_FIELDS = ("HEADERS", "CONTENT", "SOURCE", "ALL")
SEARCH_KEYS = ("from", "to", "cc", "subject", "body", "id")
NO_USER = "The user not exist."
NO_FOLDER = "The user or the folder not exist."
NO_MAIL = "The user or the mail not exist."
NO_RELEASE = "The user or the couple folder/fugluId may not exist"
NO_FILE = "File not found."
BAD_PARAMETERS = "Error in given parameters."
RELEASE_REFUSED = ("Release not allowed. The email you attempt to release is infected and no header X-Virus-Lover "
                   "found in the request OR the header X-Virus-Lover is present in the request while the email is "
                   "not infected")
_ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_SMTP_FIELDS = {"to", "cc", "bcc", "body", "subject", "attachments", "draftId", "originId", "ack", "important"}


class PreconditionFailed(CleanmailError):
    status, error = 412, "Precondition Failed"


def _seg(value: str) -> str:
    return quote(value, safe="")


def _bad(path: str, reason: str) -> BadRequest:
    return BadRequest(f"{BAD_PARAMETERS} {path}: {reason}")


def _bare_id(value: str) -> str:
    return value.strip().removeprefix("<").removesuffix(">")


def _folder_name(folder: Any) -> str | None:
    """The folder's canonical path, or None when the mailbox has no such folder."""
    if not isinstance(folder, str):
        return None
    head, sep, rest = folder.partition("/")
    wanted = ("INBOX" if head.upper() == "INBOX" else head) + sep + rest
    return wanted if wanted in FOLDERS else None


def _epoch_ms(key: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{key}: must be a date in epoch milliseconds") from None


def _source(mail: Mapping[str, Any]) -> str:
    """The message as RFC 822 text: its headers, then the HTML body alone or a multipart/mixed with attachments."""
    head = "".join(f"{name}: {value}\r\n" for name, value in mail["headers"].items())
    content = mail.get("content") or ""
    if not mail["attachments"]:
        return f"{head}\r\n{content}\r\n"
    boundary = f"=_cleanmail_{mail['id']}"
    parts = [f"--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{content}\r\n"]
    for attachment in mail["attachments"]:
        encoded = attachment["content"]
        lines = "\r\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))
        parts.append(f"--{boundary}\r\nContent-Type: {attachment['contentType']}; name=\"{attachment['name']}\"\r\n"
                     f"Content-Disposition: attachment; filename=\"{attachment['name']}\"\r\n"
                     f"Content-Transfer-Encoding: base64\r\n\r\n{lines}\r\n")
    return f"{head}\r\n{''.join(parts)}--{boundary}--\r\n"


def _finish(mail: dict[str, Any]) -> dict[str, Any]:
    mail["source"] = _source(mail)
    mail["size"] = len(mail["source"].encode("utf-8"))
    return mail


def _zip(files: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


class MailboxRules(CleanmailStore):
    """The backend's `mail` and `upload` objects: each user's fake IMAP mailbox and the uploaded attachments."""

    # ---- look-ups ----------------------------------------------------------------------------------
    def _mail_user(self, user: str) -> dict[str, Any]:
        found = self._objects["user"].get(user)
        if found is None:
            wanted = str(user).casefold()
            found = next((u for u in self._objects["user"].values()
                          if str(u.get("email", "")).casefold() == wanted), None)
        if found is None:
            raise NotFound(NO_USER)
        return found

    def _mails_of(self, user_id: str, folder: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self._objects["mail"].values()
                if m["userId"] == user_id and (folder is None or m["folder"] == folder)]

    def _open_mailbox(self, user: str, folder: Any = None, missing: str = NO_FOLDER) -> tuple[dict[str, Any], str]:
        """The user and the folder's canonical path (INBOX when not given); fills the mailbox on first use."""
        owner = self._mail_user(user)
        path = _folder_name("INBOX" if folder is None else folder)
        if path is None:
            raise NotFound(missing)
        self._fill_mailbox(owner)
        return owner, path

    def _find_mail(self, user_id: str, folder: str, mail_id: str, missing: str) -> dict[str, Any]:
        wanted = _bare_id(str(mail_id))
        for mail in self._mails_of(user_id, folder):
            if mail_id == mail["id"] or wanted in (_bare_id(mail["headers"]["Message-ID"]),
                                                   mail["headers"]["X-Fuglu-Id"]):
                return mail
        raise NotFound(missing)

    def is_mail_folder(self, folder: str) -> bool:
        return _folder_name(folder) is not None

    # ---- making mail -------------------------------------------------------------------------------
    def _new_mail(self, owner: Mapping[str, Any], folder: str, *, sender: str, to: Sequence[str],
                  cc: Sequence[str] = (), bcc: Sequence[str] = (), subject: str = "", content: str = "", sent: int,
                  seen: bool = False, important: bool = False, spam: bool = False, infected: bool = False,
                  attachments: Sequence[Mapping[str, Any]] = (), message_id: str | None = None,
                  extra_headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        mail_id = self._new_id("mail")
        headers = {
            "Message-ID": message_id or f"<{mail_id}.cleanmail@{sender.rpartition('@')[2]}>",
            "X-Fuglu-Id": hashlib.sha256(f"fuglu/{mail_id}".encode()).hexdigest()[:32],
            "Date": format_datetime(datetime.fromtimestamp(sent / 1000, timezone.utc)),
            "From": sender,
            "To": ", ".join(to),
            **({"Cc": ", ".join(cc)} if cc else {}),
            "Subject": subject,
            "MIME-Version": "1.0",
            "Content-Type": f'multipart/mixed; boundary="=_cleanmail_{mail_id}"' if attachments
            else "text/html; charset=utf-8",
            **({"Importance": "high"} if important else {}),
            **({"X-Spam-Flag": "YES", "X-Spam-Status": "Yes, score=12.4 required=5.0"} if spam else {}),
            **({"X-Virus-Status": "Infected (Emulator.Test.Virus)"} if infected else {}),
            **(extra_headers or {}),
        }
        parts = [{"partId": str(index), "name": a["name"], "contentType": a["contentType"], "content": a["content"]}
                 for index, a in enumerate(attachments, start=2)]  # part 1 is the body
        mail = {"id": mail_id, "userId": owner["id"], "folder": folder, "headers": headers, "seen": seen,
                "answered": False, "recent": not seen, "deleted": False, "important": important, "sentDate": sent,
                "subject": subject, "from": sender, "to": list(to), "cc": list(cc), "bcc": list(bcc),
                "content": content, "spam": spam, "infected": infected, "attachments": parts}
        return self._put("mail", _finish(mail))

    def _fill_mailbox(self, owner: Mapping[str, Any]) -> None:
        if any(m["userId"] == owner["id"] for m in self._objects["mail"].values()):
            return
        address = owner["email"]
        domain = address.rpartition("@")[2]

        def attached(name: str, content_type: str, data: bytes) -> dict[str, Any]:
            return {"name": name, "contentType": content_type, "content": base64.b64encode(data).decode()}

        self._new_mail(owner, "INBOX", sender=f"postmaster@{domain}", to=[address], subject="Welcome to Cleanmail",
                       content="<p>Your mailbox is protected by Cleanmail.</p>", sent=1740819600000, seen=True)
        self._new_mail(owner, "INBOX", sender="alice@partner.example", to=[address], cc=["bob@partner.example"],
                       subject="Quarterly report", content="<p>Please find the quarterly report attached.</p>",
                       sent=1741084200000, important=True,
                       attachments=[attached("report.pdf", "application/pdf", b"%PDF-1.4\n% emulated report\n")])
        self._new_mail(owner, "Quarantine", sender="winner@lottery.example", to=[address],
                       subject="You have won a prize", content="<p>Claim your prize now!</p>", sent=1741245300000,
                       spam=True)
        self._new_mail(owner, "Quarantine", sender="billing@invoices.example", to=[address],
                       subject="Invoice overdue", content="<p>See the invoice attached.</p>", sent=1741365900000,
                       infected=True,
                       attachments=[attached("invoice.zip", "application/zip", b"emulated infected attachment")])

    # ---- answers -----------------------------------------------------------------------------------
    @staticmethod
    def _mail_uri(mail: Mapping[str, Any]) -> str:
        return f"/users/{_seg(mail['userId'])}/emails/{_seg(mail['folder'])}/{_seg(mail['id'])}"

    def _render_mail(self, mail: Mapping[str, Any], fields: tuple[str, ...] = ()) -> dict[str, Any]:
        uri = self._mail_uri(mail)
        attachments = [{"partId": a["partId"], "name": a["name"], "contentType": a["contentType"],
                        "size": len(base64.b64decode(a["content"])),
                        "downloadUri": f"{uri}/attachments/{_seg(a['partId'])}?dl=true",
                        "displayUri": f"{uri}/attachments/{_seg(a['partId'])}"} for a in mail["attachments"]]
        out = {"id": mail["id"], "uri": uri, "headers": dict(mail["headers"]),
               "attachments": {"attachments": attachments, "archiveUri": f"{uri}/attachments?dl=true",
                               "count": len(attachments)},
               "seen": mail["seen"], "answered": mail["answered"], "recent": mail["recent"],
               "deleted": mail["deleted"], "hasAttachments": bool(attachments), "important": mail["important"],
               "sentDate": mail["sentDate"], "subject": mail["subject"], "from": mail["from"],
               "to": list(mail["to"]), "cc": list(mail["cc"]), "bcc": list(mail["bcc"]), "size": mail["size"]}
        if fields:
            wanted = set(fields)
            out["content"] = mail["content"] if wanted & {"CONTENT", "ALL"} else None
            out["source"] = mail["source"] if wanted & {"SOURCE", "ALL"} else None
        return copy.deepcopy(out)

    # ---- 5.7.6 / 5.7.7 folders -------------------------------------------------------------------------
    def mail_folders(self, user: str, parent: str | None, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """The folders under `parent` (None: the root), with message counts when `fields=STATS`."""
        fields = [f.strip().upper() for f in str(params.get("fields") or "").split(",") if f.strip()]
        if any(f != "STATS" for f in fields):
            raise BadRequest("fields: the only attended fields type is STATS")
        with self._write():
            owner, base = self._open_mailbox(user, parent)
            prefix = "" if parent is None else f"{base}/"
            folders = [f for f in FOLDERS if f.startswith(prefix) and "/" not in f[len(prefix):]]
            out = []
            for path in folders:
                mails = self._mails_of(owner["id"], path)
                stats = bool(fields)
                out.append({"name": path.rpartition("/")[2], "path": path,
                            "unreadMessageCount": sum(not m["seen"] for m in mails) if stats else None,
                            "messageCount": len(mails) if stats else None,
                            "messagesUri": f"/users/{_seg(owner['id'])}/emails/{_seg(path)}",
                            "childrenUri": f"/users/{_seg(owner['id'])}/emails/folders/{_seg(path)}"})
            return out

    # ---- 5.7.8 folder content ------------------------------------------------------------------------
    @staticmethod
    def _matches(mail: Mapping[str, Any], key: str, wanted: str) -> bool:
        if key == "id":
            return wanted == mail["id"] or _bare_id(wanted) in (_bare_id(mail["headers"]["Message-ID"]),
                                                                mail["headers"]["X-Fuglu-Id"])
        field = {"body": "content"}.get(key, key)
        values = mail[field] if isinstance(mail[field], list) else [mail[field]]
        return any(wanted.casefold() in str(v or "").casefold() for v in values)

    def folder_content(self, user: str, folder: str, params: Mapping[str, str]) -> tuple[list[dict[str, Any]], int]:
        operator = str(params.get("operator") or "AND").upper()
        if operator not in OPERATORS:
            raise BadRequest(f"operator: must be one of {', '.join(OPERATORS)}")
        sort = str(params.get("sort") or "-sentDate")
        field = sort.removeprefix("-").removeprefix("+")
        field = "sentDate" if field == "send_date" else field
        if field not in SORT_FIELDS:
            raise BadRequest(f"sort: must be one of {', '.join(SORT_FIELDS)} (prefixed by '-' to reverse)")
        after = _epoch_ms("receivedAfter", params.get("receivedAfter"))
        before = _epoch_ms("receivedBefore", params.get("receivedBefore"))
        offset, size = page_window(params)
        criteria = [(key, str(params[key])) for key in SEARCH_KEYS if params.get(key) not in (None, "")]
        with self._write():
            owner, path = self._open_mailbox(user, folder)
            mails = [m for m in self._mails_of(owner["id"], path)
                     if (after is None or m["sentDate"] >= after) and (before is None or m["sentDate"] <= before)]
            if criteria:
                hits = {m["id"]: [self._matches(m, key, wanted) for key, wanted in criteria] for m in mails}
                keep = {"AND": all, "OR": any, "NOT": lambda found: not any(found)}[operator]
                mails = [m for m in mails if keep(hits[m["id"]])]

            def key(mail: Mapping[str, Any]) -> tuple[Any, str]:
                value = mail[field]
                if isinstance(value, list):
                    value = value[0] if value else ""
                return (value.casefold() if isinstance(value, str) else value), mail["id"]  # ties: by id

            mails = sorted(mails, key=key, reverse=sort.startswith("-"))
            return [self._render_mail(m) for m in mails[offset:offset + size]], len(mails)

    # ---- 5.7.5 one mail, 5.7.2 / 5.7.3 its attachments ---------------------------------------------------
    def get_mail(self, user: str, folder: str, mail_id: str, params: Mapping[str, str]) -> dict[str, Any]:
        fields = tuple(f.strip().upper() for f in str(params.get("fields") or "HEADERS").split(",") if f.strip())
        unknown = [f for f in fields if f not in MAIL_FIELDS]
        if unknown:
            raise BadRequest(f"fields: must be among {', '.join(MAIL_FIELDS)}")
        with self._write():
            owner, path = self._open_mailbox(user, folder, NO_MAIL)
            return self._render_mail(self._find_mail(owner["id"], path, mail_id, NO_MAIL), fields or ("HEADERS",))

    def mail_attachments(self, user: str, folder: str, mail_id: str) -> dict[str, Any]:
        """The mail's attachments (an ImapMessageAttachmentList)."""
        with self._write():
            owner, path = self._open_mailbox(user, folder, NO_FILE)
            return self._render_mail(self._find_mail(owner["id"], path, mail_id, NO_FILE))["attachments"]

    def mail_archive(self, user: str, folder: str, mail_id: str) -> tuple[bytes, str]:
        """All the mail's attachments in one zip archive, and the archive's file name."""
        with self._write():
            owner, path = self._open_mailbox(user, folder, NO_FILE)
            mail = self._find_mail(owner["id"], path, mail_id, NO_FILE)
            if not mail["attachments"]:
                raise NotFound(NO_FILE)
            return _zip([(a["name"], base64.b64decode(a["content"])) for a in mail["attachments"]]), \
                f"attachments-{mail['id']}.zip"

    def mail_attachment(self, user: str, folder: str, mail_id: str, part_id: str) -> tuple[bytes, str, str]:
        """One attachment of the mail: its bytes, content type and file name."""
        with self._write():
            owner, path = self._open_mailbox(user, folder, NO_FILE)
            mail = self._find_mail(owner["id"], path, mail_id, NO_FILE)
            part = next((a for a in mail["attachments"] if a["partId"] == part_id), None)
            if part is None:
                raise NotFound(NO_FILE)
            return base64.b64decode(part["content"]), part["contentType"], part["name"]

    # ---- 5.7.9 release -------------------------------------------------------------------------------------
    def release_mail(self, user: str, folder: str, mail_id: str, virus_lover: bool) -> None:
        """Deliver a held mail to the INBOX; `virus_lover`: the request carried an X-Virus-Lover header."""
        with self._write():
            owner, path = self._open_mailbox(user, folder, NO_RELEASE)
            mail = copy.deepcopy(self._find_mail(owner["id"], path, mail_id, NO_RELEASE))
            if mail["infected"] != virus_lover:
                raise PreconditionFailed(RELEASE_REFUSED)
            mail["headers"] = {k: v for k, v in mail["headers"].items() if not k.upper().startswith("X-SPAM-")}
            mail.update(folder="INBOX", spam=False, recent=True)
            self._put("mail", _finish(mail))

    # ---- 5.7.10 send -----------------------------------------------------------------------------------
    def _smtp_message(self, body: Any) -> dict[str, Any]:
        """The SmtpMessage checked: 400 naming the first wrong field."""
        if not isinstance(body, Mapping):
            raise BadRequest(f"{BAD_PARAMETERS} the body must be an SmtpMessage object")
        unknown = sorted(set(body) - _SMTP_FIELDS)
        if unknown:
            raise _bad(", ".join(unknown), "unknown field")
        out: dict[str, Any] = {}
        for key in ("to", "cc", "bcc"):
            value = body.get(key) or []
            if not isinstance(value, list):
                raise _bad(key, "must be a list of email addresses")
            for index, address in enumerate(value):
                if not isinstance(address, str) or len(address) > 254 or not _ADDRESS.fullmatch(address):
                    raise _bad(f"{key}[{index}]", f"{address!r} is not an email address")
            out[key] = [a.lower() for a in value]
        if not (out["to"] or out["cc"] or out["bcc"]):
            raise _bad("to", "at least one recipient is needed in to, cc or bcc")
        for key in ("subject", "body", "draftId", "originId"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise _bad(key, "must be a string")
            out[key] = body.get(key)
        for key in ("ack", "important"):
            if body.get(key) is not None and not isinstance(body[key], bool):
                raise _bad(key, "must be a boolean")
            out[key] = bool(body.get(key))
        attachments = body.get("attachments") or []
        if not isinstance(attachments, list):
            raise _bad("attachments", "must be a list of SmtpMessageAttachment")
        out["attachments"] = []
        for index, item in enumerate(attachments):
            if not isinstance(item, Mapping):
                raise _bad(f"attachments[{index}]", "must be an object {name, uid}")
            for key in ("name", "uid"):
                if not isinstance(item.get(key), str) or not item[key]:
                    raise _bad(f"attachments[{index}].{key}", "required (a string)")
            upload = self._objects["upload"].get(item["uid"])
            if upload is None:
                raise _bad(f"attachments[{index}].uid", f"no uploaded file {item['uid']}")
            out["attachments"].append({"name": item["name"], "contentType": upload["type"],
                                       "content": upload["content"], "uid": upload["id"]})
        return out

    def send_mail(self, user: str, body: Any) -> str:
        """Send as the user: a copy in their Sent folder and one in each known recipient's INBOX; the uploads
        attached are deleted. Answers the Message-ID."""
        with self._write():
            sender = self._mail_user(user)
            message = self._smtp_message(body)
            self._fill_mailbox(sender)
            extra = {**({"Disposition-Notification-To": sender["email"]} if message["ack"] else {}),
                     **({"In-Reply-To": message["originId"]} if message["originId"] else {})}
            common = {"sender": sender["email"], "to": message["to"], "cc": message["cc"],
                      "subject": message["subject"] or "", "content": message["body"] or "", "sent": _now_ms(),
                      "important": message["important"], "attachments": message["attachments"],
                      "extra_headers": extra}
            sent = self._new_mail(sender, "Sent", bcc=message["bcc"], seen=True, **common)
            recipients = dict.fromkeys(message["to"] + message["cc"] + message["bcc"])
            for address in recipients:
                wanted = address.casefold()
                known = next((u for u in self._objects["user"].values()
                              if str(u.get("email", "")).casefold() == wanted), None)
                if known is not None:
                    self._fill_mailbox(known)
                    self._new_mail(known, "INBOX", message_id=sent["headers"]["Message-ID"], **common)
            for uid in dict.fromkeys(a["uid"] for a in message["attachments"]):
                self._remove("upload", uid)
            return str(sent["headers"]["Message-ID"])

    # ---- 5.7.11 / 5.7.4 / 5.7.1 uploaded attachments -------------------------------------------------------
    @staticmethod
    def _render_upload(upload: Mapping[str, Any]) -> dict[str, Any]:
        return {"uid": upload["id"], "name": upload["name"],
                "uri": f"/emails/attachments/{_seg(upload['id'])}/{_seg(upload['name'])}",
                "type": upload["type"], "size": upload["size"]}

    def upload_file(self, name: Any, content_type: Any, content: Any) -> dict[str, Any]:
        """Store a file to attach to a mail later; answers its AttachmentFile."""
        if not isinstance(content, bytes):
            raise _bad("file", "required (a multipart/form-data part named file)")
        name = re.split(r"[\\/]", name)[-1].strip() if isinstance(name, str) else ""
        if not name or len(name) > 255:
            raise _bad("file", "the file needs a name of 1 to 255 characters")
        with self._write():
            upload = {"id": self._new_id("upload"), "name": name,
                      "type": content_type if isinstance(content_type, str) and content_type
                      else "application/octet-stream",
                      "size": len(content), "content": base64.b64encode(content).decode(), "createdDate": _now_ms()}
            self._put("upload", upload)
            return self._render_upload(upload)

    def _upload(self, uid: str, filename: str) -> dict[str, Any]:
        found = self._objects["upload"].get(uid)
        if found is None or found["name"] != filename:
            raise NotFound(NO_FILE)
        return found

    def download_file(self, uid: str, filename: str) -> tuple[bytes, str, str]:
        with self._lock:
            found = self._upload(uid, filename)
            return base64.b64decode(found["content"]), found["type"], found["name"]

    def delete_file(self, uid: str, filename: str) -> dict[str, Any]:
        """Delete an uploaded file; answers what was deleted (its AttachmentFile)."""
        with self._write():
            found = self._upload(uid, filename)
            self._remove("upload", uid)
            return self._render_upload(found)
