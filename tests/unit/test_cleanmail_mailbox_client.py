"""The Cleanmail mailbox runbook functions without a server: SmtpMessage checked before anything is sent, the
tolerant answer models (field names the doc export lost, D16), and what goes on the wire (encoded paths, query
names, the X-Virus-Lover header, multipart upload, paging, raw file answers, typed errors)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pydantic
import pytest

from pulumi_mailinfra import errors
from pulumi_mailinfra.cleanmail import mailbox
from pulumi_mailinfra.cleanmail.client import CleanmailClient
from pulumi_mailinfra.cleanmail.mailbox import (
    AttachmentFile,
    ImapFolder,
    ImapMessage,
    ImapMessageContent,
    SmtpMessage,
)
from pulumi_mailinfra.config import ServiceSettings


class Recorder:
    """A CleanmailClient on a mock transport that records each request and answers with `answer(request)`."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.requests: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            request.read()
            self.requests.append(request)
            return answer(request)

        self.client = CleanmailClient(ServiceSettings(url="http://cm.test/api/v3", token="t", max_attempts=3),
                                      transport=httpx.MockTransport(handler))

    @property
    def paths(self) -> list[str]:
        return [r.url.raw_path.decode().partition("?")[0] for r in self.requests]


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CleanmailClient, "backoff_initial", 0.001)


# ----- SmtpMessage -------------------------------------------------------------------------------------------
def test_smtp_message_takes_python_or_api_names_and_sends_only_what_is_set() -> None:
    message = SmtpMessage.model_validate({"to": ["Arya@Got.com"], "bcc": ["x@y.org"], "subject": "s",
                                          "draftId": "D1", "attachments": [{"name": "a.pdf", "uid": "U1"}]})
    assert message.to == ["arya@got.com"] and message.draft_id == "D1"
    assert message.to_api() == {"to": ["arya@got.com"], "bcc": ["x@y.org"], "subject": "s", "draftId": "D1",
                                "attachments": [{"name": "a.pdf", "uid": "U1"}]}
    assert SmtpMessage(cc=["a@b.co"], origin_id="O").to_api() == {"cc": ["a@b.co"], "originId": "O"}


@pytest.mark.parametrize(("body", "where", "words"), [
    ({"subject": "nobody"}, (), "at least one recipient"),
    ({"to": [], "cc": [], "bcc": []}, (), "at least one recipient"),
    ({"to": ["not-an-address"]}, ("to", 0), "not an email address"),
    ({"to": ["a@b.co"], "cc": ["a@b.co", "bad@"]}, ("cc", 1), "not an email address"),
    ({"to": "a@b.co"}, ("to",), "list"),
    ({"to": ["a@b.co"], "subjet": "typo"}, ("subjet",), "Extra inputs"),
    ({"to": ["a@b.co"], "attachments": [{"name": "a.pdf"}]}, ("attachments", 0, "uid"), "required"),
    ({"to": ["a@b.co"], "attachments": [{"name": "", "uid": "U"}]}, ("attachments", 0, "name"), "at least 1"),
    ({"to": ["a@b.co"], "subject": 12}, ("subject",), "string"),
])
def test_smtp_message_refuses_bad_input_naming_the_field(body: dict[str, Any], where: tuple[Any, ...],
                                                         words: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        SmtpMessage.model_validate(body)
    error = caught.value.errors()[0]
    assert tuple(error["loc"]) == where and words in error["msg"]


def test_send_mail_checks_the_message_before_anything_is_sent() -> None:
    wire = Recorder(lambda r: httpx.Response(200, json="<id@got.com>"))
    with pytest.raises(pydantic.ValidationError):
        mailbox.send_mail("arya@got.com", {"subject": "no recipient"}, client=wire.client)
    with pytest.raises(pydantic.ValidationError):
        mailbox.send_mail("arya@got.com", {"to": ["nope"]}, client=wire.client)
    assert wire.requests == []
    assert mailbox.send_mail("Arya@got.com", {"to": ["Jon@got.com"], "body": "<p>hi</p>"},
                             client=wire.client) == "<id@got.com>"
    (sent,) = wire.requests
    assert sent.method == "POST" and wire.paths == ["/api/v3/users/Arya%40got.com/emails/send"]
    assert json.loads(sent.content) == {"to": ["jon@got.com"], "body": "<p>hi</p>"}


# ----- answer models -----------------------------------------------------------------------------------------
def test_message_models_accept_missing_and_unknown_fields() -> None:
    assert ImapMessage.model_validate({}).id is None
    message = ImapMessageContent.model_validate({
        "id": "M1", "from": "a@b.co", "to": "c@d.co", "sentDate": 1741084200000, "hasAttachments": True,
        "headers": {"Message-ID": "<m1@b.co>", "X-Fuglu-Id": "f00"}, "flagged": True, "content": "<p/>",
        "attachments": {"attachments": [{"partId": "2", "name": "r.pdf", "contentType": "application/pdf",
                                         "size": 3, "checksum": "abc"}], "count": 1},
    })
    assert message.sender == "a@b.co" and message.to == ["c@d.co"] and message.has_attachments is True
    assert message.sent_at == datetime(2025, 3, 4, 10, 30, tzinfo=timezone.utc)
    assert message.header("message-id") == "<m1@b.co>" and message.header("Nope") is None
    assert message.model_extra == {"flagged": True}  # an unknown field stays readable
    part = message.attachments.attachments[0] if message.attachments else None
    assert part is not None and part.part_id == "2" and part.content_type == "application/pdf"
    assert part.model_extra == {"checksum": "abc"} and message.source is None
    assert message.model_dump(by_alias=True)["from"] == "a@b.co"


@pytest.mark.parametrize(("given", "expected"), [
    (1741084200000, 1741084200000),
    ("1741084200000", 1741084200000),
    ("2025-03-04T10:30:00Z", 1741084200000),
    ("2025-03-04T11:30:00+01:00", 1741084200000),
    ("2025-03-04T10:30:00", 1741084200000),  # naive: UTC
])
def test_sent_date_is_epoch_ms_whatever_date_form_is_answered(given: Any, expected: int) -> None:
    assert ImapMessage.model_validate({"sentDate": given}).sent_date == expected


def test_folder_and_attachment_file_models() -> None:
    folder = ImapFolder.model_validate({"name": "Archive", "path": "INBOX/Archive", "messageCount": 3,
                                        "unreadMessageCount": 1, "delimiter": "/"})
    assert (folder.message_count, folder.unread_message_count, folder.model_extra) == (3, 1, {"delimiter": "/"})
    assert ImapFolder(message_count=2).message_count == 2  # Python names work too
    upload = AttachmentFile.model_validate({"uid": "U", "name": "a.txt", "type": "text/plain", "size": 4})
    assert upload.uid == "U" and upload.uri is None


def test_dates_become_epoch_milliseconds() -> None:
    assert mailbox.to_epoch_ms(datetime(2025, 3, 4, 10, 30)) == 1741084200000
    assert mailbox.to_epoch_ms(datetime(2025, 3, 4, 11, 30, tzinfo=timezone(timedelta(hours=1)))) == 1741084200000
    assert mailbox.to_epoch_ms(5) == 5
    with pytest.raises(TypeError):
        mailbox.to_epoch_ms(True)


# ----- on the wire ---------------------------------------------------------------------------------------------
def test_paths_encode_the_user_the_folder_and_the_message_id() -> None:
    wire = Recorder(lambda r: httpx.Response(200, json=[{"path": "INBOX/Sub/x"}] if b"/folders" in r.url.raw_path
                                             else {"id": "M"}))
    mailbox.mail("a@got.com", "INBOX/Sub dir", "<m1@got.com>", fields=["HEADERS", "CONTENT"], client=wire.client)
    assert wire.paths == ["/api/v3/users/a%40got.com/emails/INBOX%2FSub%20dir/%3Cm1%40got.com%3E"]
    assert wire.requests[0].url.params["fields"] == "HEADERS,CONTENT"
    mailbox.mail_folders("a@got.com", stats=True, parent="INBOX/Sub", client=wire.client)
    assert wire.paths[-1] == "/api/v3/users/a%40got.com/emails/folders/INBOX%2FSub"
    assert wire.requests[-1].url.params["fields"] == "STATS"
    odd = Recorder(lambda r: httpx.Response(200, json={"unexpected": True}))
    with pytest.raises(errors.MailinfraError, match="expected a list of folders"):
        mailbox.mail_folders("a@got.com", client=odd.client)
    with pytest.raises(ValueError, match="folder"):
        mailbox.mail("a@got.com", "", "m", client=wire.client)


def test_folder_messages_follows_pages_maps_the_search_and_stops_at_the_limit() -> None:
    everything = [{"id": f"M{i:03}", "subject": f"s{i}"} for i in range(230)]

    def answer(request: httpx.Request) -> httpx.Response:
        offset, size = int(request.url.params["offset"]), int(request.url.params["pageSize"])
        return httpx.Response(200, json=everything[offset:offset + size], headers={"X-Total-Count": "230"})

    wire = Recorder(answer)
    after = datetime(2025, 3, 1, tzinfo=timezone.utc)
    found = mailbox.folder_messages("u1", "INBOX", sender="alice", message_id="<x@y>", operator="OR",
                                    received_after=after, received_before=1741365900000, client=wire.client)
    assert [m.id for m in found] == [m["id"] for m in everything] and len(wire.requests) == 3
    query = wire.requests[0].url.params
    assert query["from"] == "alice" and query["id"] == "<x@y>" and query["operator"] == "OR"
    assert query["receivedAfter"] == "1740787200000" and query["receivedBefore"] == "1741365900000"
    assert query["sort"] == "-sentDate" and "to" not in query and "subject" not in query
    wire.requests.clear()
    assert len(mailbox.folder_messages("u1", "INBOX", limit=5, client=wire.client)) == 5
    assert len(wire.requests) == 1 and "operator" not in wire.requests[0].url.params
    with pytest.raises(ValueError, match="operator"):
        mailbox.folder_messages("u1", "INBOX", operator="XOR", client=wire.client)  # type: ignore[arg-type]


@pytest.mark.parametrize("infected", [False, True])
def test_release_sends_x_virus_lover_only_for_an_infected_mail_and_explains_a_412(infected: bool) -> None:
    wire = Recorder(lambda r: httpx.Response(204))
    mailbox.release_mail("u1", "Quarantine", "f00", infected=infected, client=wire.client)
    assert wire.paths == ["/api/v3/users/u1/emails/Quarantine/f00/release"]
    assert wire.requests[0].headers.get("X-Virus-Lover") == ("true" if infected else None)

    refused = Recorder(lambda r: httpx.Response(412, json={"status": 412, "message": "Release not allowed."}))
    with pytest.raises(mailbox.ReleaseRefusedError) as caught:
        mailbox.release_mail("u1", "Quarantine", "f00", infected=infected, client=refused.client)
    assert caught.value.status == 412 and "Release not allowed." in str(caught.value)
    assert ("not infected" if infected else "infected=True") in str(caught.value)
    assert isinstance(caught.value, errors.ValidationError) and len(refused.requests) == 1  # never retried

    missing = Recorder(lambda r: httpx.Response(404, json={"message": "The user or the couple folder/fugluId "
                                                                      "may not exist"}))
    with pytest.raises(errors.NotFoundError, match="may not exist"):
        mailbox.release_mail("u1", "INBOX", "f00", client=missing.client)


def test_upload_is_multipart_and_files_come_back_as_bytes() -> None:
    blob = bytes(range(256)) + b"\r\n--not-a-boundary\r\n"

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"uid": "U1", "name": "b.bin", "type": "application/x-b", "size": 9,
                                             "extra": 1})
        return httpx.Response(200, content=blob, headers={"Content-Type": "application/octet-stream"})

    wire = Recorder(answer)
    made = mailbox.upload_attachment("b.bin", blob, "application/x-b", client=wire.client)
    assert made.uid == "U1" and made.model_extra == {"extra": 1}
    upload = wire.requests[0]
    assert upload.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="b.bin"' in upload.content and blob in upload.content
    assert upload.headers["Authorization"] == "Bearer t"
    assert mailbox.download_attachment("U1", "b b.bin", client=wire.client) == blob
    assert mailbox.message_attachment("a@b.co", "INBOX", "M1", "2", client=wire.client) == blob
    assert wire.paths[1:] == ["/api/v3/emails/attachments/U1/b%20b.bin",
                              "/api/v3/users/a%40b.co/emails/INBOX/M1/attachments/2"]


def test_file_answers_retry_server_errors_and_raise_typed_errors() -> None:
    answers = iter([httpx.Response(503, json={"message": "busy"}), httpx.Response(200, content=b"ok")])
    wire = Recorder(lambda r: next(answers))
    assert mailbox.download_attachment("U1", "a.txt", client=wire.client) == b"ok" and len(wire.requests) == 2

    gone = Recorder(lambda r: httpx.Response(404, json={"status": 404, "message": "File not found."}))
    with pytest.raises(errors.NotFoundError, match=r"File not found\.") as caught:
        mailbox.download_attachment("U1", "a.txt", client=gone.client)
    assert caught.value.status == 404 and len(gone.requests) == 1

    down = Recorder(lambda r: httpx.Response(500, json={"message": "Imap down"}))
    with pytest.raises(errors.ServerError, match="Imap down"):
        mailbox.message_attachment("u", "INBOX", "M", "2", client=down.client)
    assert len(down.requests) == 3  # max_attempts


def test_message_attachments_accept_a_list_or_an_attachment_list() -> None:
    listed = Recorder(lambda r: httpx.Response(200, json=[{"partId": "2", "name": "a.pdf"}]))
    assert mailbox.message_attachments("u", "INBOX", "M", client=listed.client).attachments[0].name == "a.pdf"
    wrapped = Recorder(lambda r: httpx.Response(200, json={"attachments": [{"partId": "3"}], "count": 1}))
    found = mailbox.message_attachments("u", "INBOX", "M", client=wrapped.client)
    assert found.count == 1 and found.attachments[0].part_id == "3"
    assert wrapped.paths == ["/api/v3/users/u/emails/INBOX/M/attachments"]
