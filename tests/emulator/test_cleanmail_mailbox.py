"""The Cleanmail emulator's fake mailboxes (5.7 Emails): the backend's rules without HTTP (lazy deterministic
filling, search, sort, paging, release, send, uploads, 404s), then the HTTP layer driven by the runbook functions
of `pulumi_mailinfra.cleanmail.mailbox`."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from pulumi_mailinfra import errors
from pulumi_mailinfra.cleanmail import client as client_module
from pulumi_mailinfra.cleanmail import mailbox
from pulumi_mailinfra.emulator.cleanmail.backend import BadRequest, CleanmailBackend, NotFound
from pulumi_mailinfra.emulator.cleanmail.mailbox import PreconditionFailed

if TYPE_CHECKING:  # the fixture's type only: the tests run with `pytest` alone (no `tests` package on the path)
    from tests.conftest import Emulator


def domain_body(name: str = "got.com") -> dict[str, Any]:
    return {"name": name, "status": "ENABLED", "incoming": True, "outgoing": False, "quarantine": True,
            "retention": False, "archive": False, "defaultLanguage": "EN",
            "platforms": [{"name": "platform", "transportDest": "1.2.3.4", "transportType": "SMTP",
                           "transportPort": 25, "authType": "local", "default": True}]}


def user_body(domain_id: str, email: str) -> dict[str, Any]:
    return {"email": email, "status": "ENABLED", "language": "EN", "domainId": domain_id}

SEEDED = {"INBOX": ["Quarterly report", "Welcome to Cleanmail"],
          "Quarantine": ["Invoice overdue", "You have won a prize"]}


def make_users(backend: CleanmailBackend) -> tuple[dict[str, Any], dict[str, Any]]:
    domain = backend.create_domain(domain_body())
    return (backend.create_user(user_body(domain["id"], "jon@got.com")),
            backend.create_user(user_body(domain["id"], "arya@got.com")))


@pytest.fixture
def backend() -> CleanmailBackend:
    return CleanmailBackend()


@pytest.fixture
def jon(backend: CleanmailBackend) -> dict[str, Any]:
    return make_users(backend)[0]


def subjects(backend: CleanmailBackend, user: str, folder: str, **params: Any) -> list[str]:
    return [m["subject"] for m in backend.folder_content(user, folder, params)[0]]


def one(backend: CleanmailBackend, user: str, folder: str, subject: str) -> dict[str, Any]:
    (found,) = [m for m in backend.folder_content(user, folder, {})[0] if m["subject"] == subject]
    return found


# ----- filling, folders, users ----------------------------------------------------------------------------------
def test_a_mailbox_is_filled_once_on_first_use_and_persists(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    backend = CleanmailBackend(state)
    jon, _ = make_users(backend)
    assert backend._objects["mail"] == {}  # nothing before first use
    folders = backend.mail_folders("JON@got.com", None, {"fields": "STATS"})
    assert [(f["path"], f["name"], f["messageCount"], f["unreadMessageCount"]) for f in folders] == [
        ("INBOX", "INBOX", 2, 1), ("Quarantine", "Quarantine", 2, 2), ("Sent", "Sent", 0, 0)]
    assert folders[0]["messagesUri"] == f"/users/{jon['id']}/emails/INBOX"
    assert backend.mail_folders(jon["id"], None, {})[0]["messageCount"] is None  # counts only with STATS
    assert {f: subjects(backend, jon["id"], f) for f in SEEDED} == SEEDED
    ids = sorted(backend._objects["mail"])
    backend.close()

    reopened = CleanmailBackend(state)
    assert {f: subjects(reopened, "jon@got.com", f) for f in SEEDED} == SEEDED
    assert sorted(reopened._objects["mail"]) == ids  # not filled again
    assert len(ids) == 4 and all(m["userId"] == jon["id"] for m in reopened._objects["mail"].values())


def test_filling_is_deterministic(backend: CleanmailBackend, jon: dict[str, Any]) -> None:
    other = CleanmailBackend()
    other_jon, _ = make_users(other)
    assert other_jon["id"] == jon["id"]
    assert backend.folder_content(jon["id"], "INBOX", {}) == other.folder_content(jon["id"], "INBOX", {})


def test_subfolders_and_unknown_users_and_folders(backend: CleanmailBackend, jon: dict[str, Any]) -> None:
    (archive,) = backend.mail_folders(jon["id"], "inbox", {"fields": "STATS"})
    assert (archive["name"], archive["path"], archive["messageCount"]) == ("Archive", "INBOX/Archive", 0)
    assert archive["childrenUri"] == f"/users/{jon['id']}/emails/folders/INBOX%2FArchive"
    assert backend.mail_folders(jon["id"], "INBOX/Archive", {}) == []
    assert subjects(backend, jon["id"], "INBOX/Archive") == []
    with pytest.raises(NotFound, match=r"^The user not exist\.$"):
        backend.mail_folders("nobody@got.com", None, {})
    with pytest.raises(NotFound, match=r"^The user not exist\.$"):
        backend.folder_content("Zzzzz", "INBOX", {})
    with pytest.raises(NotFound, match=r"^The user or the folder not exist\.$"):
        backend.folder_content(jon["id"], "Spam", {})
    with pytest.raises(NotFound, match=r"^The user or the folder not exist\.$"):
        backend.mail_folders(jon["id"], "Nope", {})
    with pytest.raises(BadRequest, match="STATS"):
        backend.mail_folders(jon["id"], None, {"fields": "COUNTS"})


# ----- search, sort, paging ---------------------------------------------------------------------------------
def test_search_operators_dates_and_ids(backend: CleanmailBackend, jon: dict[str, Any]) -> None:
    u = jon["id"]
    assert subjects(backend, u, "INBOX", **{"from": "ALICE@partner"}) == ["Quarterly report"]
    assert subjects(backend, u, "INBOX", cc="bob@") == ["Quarterly report"]
    assert subjects(backend, u, "INBOX", to="jon@GOT.com") == SEEDED["INBOX"]
    assert subjects(backend, u, "INBOX", body="PROTECTED by") == ["Welcome to Cleanmail"]
    both = {"subject": "welcome", "from": "alice"}
    assert subjects(backend, u, "INBOX", **both) == []  # AND by default
    assert subjects(backend, u, "INBOX", operator="OR", **both) == SEEDED["INBOX"]
    assert subjects(backend, u, "INBOX", operator="not", subject="welcome") == ["Quarterly report"]
    assert subjects(backend, u, "INBOX", operator="NOT", **both) == []
    # the dates bound the search whatever the operator, both bounds included
    assert subjects(backend, u, "INBOX", receivedAfter="1741084200000") == ["Quarterly report"]
    assert subjects(backend, u, "INBOX", receivedBefore="1741084199999") == ["Welcome to Cleanmail"]
    assert subjects(backend, u, "INBOX", operator="OR", subject="welcome", receivedAfter="1741084200000") == []
    report = one(backend, u, "INBOX", "Quarterly report")
    for wanted in (report["id"], report["headers"]["Message-ID"], report["headers"]["Message-ID"].strip("<>"),
                   report["headers"]["X-Fuglu-Id"]):
        assert subjects(backend, u, "INBOX", id=wanted) == ["Quarterly report"]
    for bad, field in (({"operator": "XOR"}, "operator"), ({"sort": "colour"}, "sort"),
                       ({"receivedAfter": "yesterday"}, "receivedAfter"), ({"pageSize": "0"}, "pageSize")):
        with pytest.raises(BadRequest, match=field):
            backend.folder_content(u, "INBOX", bad)


def test_sort_and_paging_with_total(backend: CleanmailBackend, jon: dict[str, Any]) -> None:
    u = jon["id"]
    for index in range(3):
        backend.send_mail(u, {"to": ["jon@got.com"], "subject": f"note {index}"})
    newest_first = subjects(backend, u, "INBOX")
    assert newest_first[-2:] == SEEDED["INBOX"] and len(newest_first) == 5
    assert subjects(backend, u, "INBOX", sort="sentDate") == list(reversed(newest_first))
    assert subjects(backend, u, "INBOX", sort="send_date")[:2] == ["Welcome to Cleanmail", "Quarterly report"]
    assert subjects(backend, u, "INBOX", sort="subject") == sorted(newest_first, key=str.casefold)
    assert subjects(backend, u, "INBOX", sort="-subject") == sorted(newest_first, key=str.casefold, reverse=True)
    sizes = [m["size"] for m in backend.folder_content(u, "INBOX", {"sort": "-size"})[0]]
    assert sizes == sorted(sizes, reverse=True) and all(isinstance(s, int) for s in sizes)
    page, total = backend.folder_content(u, "INBOX", {"sort": "subject", "offset": "1", "pageSize": "2"})
    assert total == 5 and [m["subject"] for m in page] == sorted(newest_first, key=str.casefold)[1:3]


# ----- one mail and its attachments --------------------------------------------------------------------------
def test_get_mail_by_any_id_with_the_fields_asked(backend: CleanmailBackend, jon: dict[str, Any]) -> None:
    u = jon["id"]
    report = one(backend, u, "INBOX", "Quarterly report")
    headers = report["headers"]
    assert report["hasAttachments"] and report["important"] and not report["seen"]
    assert report["uri"] == f"/users/{u}/emails/INBOX/{report['id']}" and report["cc"] == ["bob@partner.example"]
    for wanted in (report["id"], headers["Message-ID"], headers["Message-ID"].strip("<>"), headers["X-Fuglu-Id"]):
        assert backend.get_mail("jon@got.com", "inbox", wanted, {})["id"] == report["id"]
    plain = backend.get_mail(u, "INBOX", report["id"], {})
    assert plain["content"] is None and plain["source"] is None and plain["headers"] == headers  # HEADERS
    full = backend.get_mail(u, "INBOX", report["id"], {"fields": "content,SOURCE"})
    pdf = base64.b64encode(b"%PDF-1.4\n% emulated report\n").decode()
    assert "quarterly report attached" in full["content"] and pdf in full["source"]
    assert full["size"] == len(full["source"].encode()) and full["source"].startswith("Message-ID: ")
    for folder, wanted in (("INBOX", "nope"), ("Quarantine", report["id"]), ("Nope", report["id"])):
        with pytest.raises(NotFound, match=r"^The user or the mail not exist\.$"):
            backend.get_mail(u, folder, wanted, {})
    with pytest.raises(BadRequest, match="fields"):
        backend.get_mail(u, "INBOX", report["id"], {"fields": "BODY"})


def test_attachments_of_a_mail(backend: CleanmailBackend, jon: dict[str, Any]) -> None:
    u = jon["id"]
    report = one(backend, u, "INBOX", "Quarterly report")
    listed = backend.mail_attachments(u, "INBOX", report["id"])
    assert listed["count"] == 1 and listed == report["attachments"]
    (part,) = listed["attachments"]
    assert (part["partId"], part["name"], part["contentType"], part["size"]) == ("2", "report.pdf",
                                                                                 "application/pdf", 27)
    assert part["downloadUri"] == f"/users/{u}/emails/INBOX/{report['id']}/attachments/2?dl=true"
    assert backend.mail_attachment(u, "INBOX", report["id"], "2") == (b"%PDF-1.4\n% emulated report\n",
                                                                       "application/pdf", "report.pdf")
    archive, name = backend.mail_archive(u, "INBOX", report["id"])
    assert zipfile.ZipFile(io.BytesIO(archive)).read("report.pdf") == b"%PDF-1.4\n% emulated report\n"
    assert name.endswith(".zip")
    welcome = one(backend, u, "INBOX", "Welcome to Cleanmail")
    assert welcome["attachments"] == {"attachments": [], "archiveUri": f"{welcome['uri']}/attachments?dl=true",
                                      "count": 0} and not welcome["hasAttachments"]
    for args in ((report["id"], "3"), ("nope", "2"), (welcome["id"], "2")):
        with pytest.raises(NotFound, match=r"^File not found\.$"):
            backend.mail_attachment(u, "INBOX", *args)


# ----- release ------------------------------------------------------------------------------------------------
def test_release_needs_x_virus_lover_exactly_for_infected_mail(backend: CleanmailBackend,
                                                                jon: dict[str, Any]) -> None:
    u = jon["id"]
    spam = one(backend, u, "Quarantine", "You have won a prize")
    virus = one(backend, u, "Quarantine", "Invoice overdue")
    assert spam["headers"]["X-Spam-Flag"] == "YES"
    with pytest.raises(PreconditionFailed, match="Release not allowed") as refused:
        backend.release_mail(u, "Quarantine", virus["headers"]["X-Fuglu-Id"], False)
    assert refused.value.status == 412
    with pytest.raises(PreconditionFailed):
        backend.release_mail(u, "Quarantine", spam["headers"]["X-Fuglu-Id"], True)
    assert subjects(backend, u, "Quarantine") == SEEDED["Quarantine"]  # nothing moved

    backend.release_mail(u, "Quarantine", spam["headers"]["X-Fuglu-Id"], False)
    released = one(backend, u, "INBOX", "You have won a prize")
    assert released["id"] == spam["id"] and not any(h.startswith("X-Spam") for h in released["headers"])
    assert "X-Spam-Flag" not in backend.get_mail(u, "INBOX", spam["id"], {"fields": "SOURCE"})["source"]
    backend.release_mail("JON@got.com", "Quarantine", virus["headers"]["Message-ID"], True)
    assert subjects(backend, u, "Quarantine") == []
    assert subjects(backend, u, "INBOX", sort="subject") == ["Invoice overdue", "Quarterly report",
                                                             "Welcome to Cleanmail", "You have won a prize"]
    for folder in ("Quarantine", "Nope"):  # only from a folder holding it
        with pytest.raises(NotFound, match=r"^The user or the couple folder/fugluId may not exist$"):
            backend.release_mail(u, folder, spam["headers"]["X-Fuglu-Id"], False)


# ----- send and uploads ---------------------------------------------------------------------------------------
def test_send_delivers_to_known_recipients_and_consumes_the_upload(backend: CleanmailBackend) -> None:
    jon, arya = make_users(backend)
    upload = backend.upload_file("C:\\docs\\plan.txt", "text/plain", b"winter is coming\r\n")
    assert upload == {"uid": upload["uid"], "name": "plan.txt", "type": "text/plain", "size": 18,
                      "uri": f"/emails/attachments/{upload['uid']}/plan.txt"}
    assert backend.download_file(upload["uid"], "plan.txt") == (b"winter is coming\r\n", "text/plain", "plan.txt")
    message_id = backend.send_mail("JON@got.com", {
        "to": ["Arya@got.com", "sansa@elsewhere.example"], "bcc": ["jon@got.com"], "subject": "Plan",
        "body": "<p>see attached</p>", "important": True, "ack": True,
        "attachments": [{"name": "the-plan.txt", "uid": upload["uid"]}]})
    assert message_id.startswith("<") and message_id.endswith("@got.com>")
    with pytest.raises(NotFound, match=r"^File not found\.$"):  # the upload is deleted once sent
        backend.download_file(upload["uid"], "plan.txt")

    (sent,) = backend.folder_content(jon["id"], "Sent", {})[0]
    assert sent["bcc"] == ["jon@got.com"] and sent["seen"] and sent["headers"]["Message-ID"] == message_id
    received = backend.folder_content(arya["id"], "INBOX", {})[0]
    assert [m["subject"] for m in received] == ["Plan", *SEEDED["INBOX"]]  # filled first, then delivered
    plan = received[0]
    assert plan["from"] == "jon@got.com" and plan["bcc"] == [] and plan["important"] and not plan["seen"]
    assert plan["headers"]["Message-ID"] == message_id and plan["headers"]["Disposition-Notification-To"]
    assert plan["attachments"]["attachments"][0]["name"] == "the-plan.txt"
    assert backend.mail_attachment(arya["id"], "INBOX", message_id, "2")[0] == b"winter is coming\r\n"
    assert "Plan" in subjects(backend, jon["id"], "INBOX")  # jon was in bcc
    assert backend.folder_content(arya["id"], "Sent", {})[1] == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"subject": "x"}, "to: at least one recipient"),
    ({"to": ["arya@got.com", "bad"]}, "to[1]"),
    ({"to": "arya@got.com"}, "to:"),
    ({"to": ["arya@got.com"], "subjet": "typo"}, "subjet"),
    ({"to": ["arya@got.com"], "ack": "yes"}, "ack"),
    ({"to": ["arya@got.com"], "attachments": [{"name": "a"}]}, "attachments[0].uid"),
    ({"to": ["arya@got.com"], "attachments": [{"name": "a", "uid": "nope"}]}, "attachments[0].uid"),
    ([], "SmtpMessage"),
])
def test_send_refuses_bad_messages_naming_the_field(backend: CleanmailBackend, body: Any, field: str) -> None:
    jon, arya = make_users(backend)
    upload = backend.upload_file("keep.txt", None, b"k")
    with pytest.raises(BadRequest) as refused:
        backend.send_mail(jon["id"], body)
    assert refused.value.message.startswith("Error in given parameters.") and field in refused.value.message
    assert backend.download_file(upload["uid"], "keep.txt") == (b"k", "application/octet-stream", "keep.txt")
    assert not any(m["userId"] == arya["id"] for m in backend._objects["mail"].values())
    with pytest.raises(NotFound, match=r"^The user not exist\.$"):
        backend.send_mail("nobody@got.com", {"to": ["arya@got.com"]})


def test_uploads_download_and_delete(backend: CleanmailBackend) -> None:
    upload = backend.upload_file("a.bin", "application/x-a", b"\x00\x01")
    with pytest.raises(NotFound, match=r"^File not found\.$"):
        backend.download_file(upload["uid"], "other.bin")  # the uid and its file name go together
    with pytest.raises(NotFound, match=r"^File not found\.$"):
        backend.delete_file("nope", "a.bin")
    assert backend.delete_file(upload["uid"], "a.bin")["uid"] == upload["uid"]
    with pytest.raises(NotFound, match=r"^File not found\.$"):
        backend.download_file(upload["uid"], "a.bin")
    with pytest.raises(BadRequest, match="file"):
        backend.upload_file("", None, b"x")


# ----- over HTTP, with the runbook functions ----------------------------------------------------------------------
@pytest.fixture
def served(emulator: Emulator) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    client = emulator.cleanmail()
    domain = client.request("POST", "/domains", json=domain_body())
    jon = client.request("POST", "/users", json=user_body(domain["id"], "jon@got.com"))
    arya = client.request("POST", "/users", json=user_body(domain["id"], "arya@got.com"))
    return client, jon, arya


def test_http_folders_messages_and_attachments(emulator: Emulator, served: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    client, jon, _ = served
    folders = mailbox.mail_folders("Jon@got.com", stats=True, client=client)
    assert [(f.path, f.message_count) for f in folders] == [("INBOX", 2), ("Quarantine", 2), ("Sent", 0)]
    (archive,) = mailbox.mail_folders(jon["id"], parent="INBOX", client=client)
    assert archive.path == "INBOX/Archive" and archive.message_count is None
    assert mailbox.folder_messages("jon@got.com", "INBOX/Archive", client=client) == []

    monkeypatch.setattr(client_module, "PAGE_SIZE", 1)  # one message per page: the pages are followed
    emulator.reset_stats()
    inbox = mailbox.folder_messages("jon@got.com", "INBOX", client=client)
    assert [m.subject for m in inbox] == SEEDED["INBOX"] and emulator.requests() == 2
    assert [m.subject for m in mailbox.folder_messages("jon@got.com", "INBOX", sort="subject", limit=1,
                                                       client=client)] == ["Quarterly report"]
    found = mailbox.folder_messages("jon@got.com", "INBOX", sender="postmaster", subject="report", operator="OR",
                                    client=client)
    assert len(found) == 2
    report = mailbox.folder_messages("jon@got.com", "INBOX", received_after=1741084200000, client=client)[0]
    assert report.subject == "Quarterly report" and report.sender == "alice@partner.example"

    content = mailbox.mail("jon@got.com", "INBOX", str(report.header("Message-ID")), fields="CONTENT", client=client)
    assert content.id == report.id and content.content and content.source is None
    assert content.attachments is not None and content.attachments.count == 1
    listed = mailbox.message_attachments(jon["id"], "INBOX", str(report.id), client=client)
    assert [(a.part_id, a.name, a.size) for a in listed.attachments] == [("2", "report.pdf", 27)]
    assert mailbox.message_attachment("jon@got.com", "INBOX", str(report.id), "2",
                                      client=client) == b"%PDF-1.4\n% emulated report\n"
    with pytest.raises(errors.NotFoundError, match=r"File not found\."):
        mailbox.message_attachment("jon@got.com", "INBOX", str(report.id), "9", client=client)
    with pytest.raises(errors.NotFoundError, match=r"The user not exist\."):
        mailbox.mail_folders("nobody@got.com", client=client)
    with pytest.raises(errors.NotFoundError, match=r"The user or the folder not exist\."):
        mailbox.folder_messages("jon@got.com", "INBOX/Nope", client=client)


def test_http_paths_headers_and_route_order(emulator: Emulator, served: Any) -> None:
    _, jon, _ = served
    token = emulator.cleanmail().settings.token
    api = httpx.Client(base_url=emulator.cleanmail_url, headers={"Authorization": f"Bearer {token}"})
    listed = api.get(f"/users/{jon['id']}/emails/INBOX", params={"pageSize": 1})
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "2" and len(listed.json()) == 1
    assert api.get(f"/users/{jon['id']}/emails/INBOX/Archive").json() == []  # unencoded: still the folder
    first = listed.json()[0]
    assert api.get(first["uri"]).json()["id"] == first["id"]  # answered URIs work from the API's base
    part = api.get(first["attachments"]["attachments"][0]["downloadUri"])
    assert part.headers["Content-Disposition"].startswith("attachment;") and part.content.startswith(b"%PDF")
    assert api.get(first["attachments"]["attachments"][0]["displayUri"]).headers["Content-Disposition"].startswith(
        "inline;")
    archive = api.get(first["attachments"]["archiveUri"])
    assert archive.headers["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(archive.content)).namelist() == ["report.pdf"]
    assert api.get(f"/users/{jon['id']}").json()["email"] == "jon@got.com"  # earlier routes unaffected
    assert api.put(f"/users/{jon['id']}/emails/INBOX").status_code == 404  # the catch-all still answers
    assert api.post(f"/users/{jon['id']}/emails/INBOX/x/forward").status_code == 404
    assert httpx.get(f"{emulator.cleanmail_url}/users/{jon['id']}/emails/folders").status_code == 401
    bad = api.post(f"/users/{jon['id']}/emails/send", json={"to": ["nope"]})
    assert bad.status_code == 400 and bad.json()["message"].startswith("Error in given parameters. to[0]")
    assert api.post("/emails/attachments", json={"file": "x"}).status_code == 400


def test_http_release_send_and_uploads(served: Any) -> None:
    client, jon, arya = served
    quarantine = {m.subject: m for m in mailbox.folder_messages("jon@got.com", "Quarantine", client=client)}
    virus, spam = quarantine["Invoice overdue"], quarantine["You have won a prize"]
    with pytest.raises(mailbox.ReleaseRefusedError, match="infected=True") as refused:
        mailbox.release_mail("jon@got.com", "Quarantine", str(virus.header("X-Fuglu-Id")), client=client)
    assert refused.value.status == 412 and "Release not allowed" in str(refused.value)
    with pytest.raises(mailbox.ReleaseRefusedError, match="not infected"):
        mailbox.release_mail("jon@got.com", "Quarantine", str(spam.header("X-Fuglu-Id")), infected=True,
                             client=client)
    mailbox.release_mail(jon["id"], "Quarantine", str(virus.header("Message-ID")), infected=True, client=client)
    mailbox.release_mail(jon["id"], "Quarantine", str(spam.header("X-Fuglu-Id")), client=client)
    assert mailbox.folder_messages(jon["id"], "Quarantine", client=client) == []
    with pytest.raises(errors.NotFoundError, match="may not exist"):
        mailbox.release_mail(jon["id"], "Quarantine", str(spam.header("X-Fuglu-Id")), client=client)

    blob = bytes(range(256)) * 3 + b"\r\n--boundary-like\r\n\r"
    upload = mailbox.upload_attachment("raven.bin", blob, "application/x-raven", client=client)
    assert upload.size == len(blob) and upload.type == "application/x-raven" and upload.name == "raven.bin"
    assert mailbox.download_attachment(str(upload.uid), "raven.bin", client=client) == blob
    message = mailbox.SmtpMessage(to=["Arya@got.com"], subject="Raven", body="<p>news</p>",
                                  attachments=[mailbox.SmtpMessageAttachment(name="raven.bin", uid=str(upload.uid))])
    message_id = mailbox.send_mail("jon@got.com", message, client=client)
    with pytest.raises(errors.NotFoundError):
        mailbox.download_attachment(str(upload.uid), "raven.bin", client=client)
    (got,) = mailbox.folder_messages(arya["id"], "INBOX", subject="raven", client=client)
    assert got.header("Message-ID") == message_id and got.sender == "jon@got.com" and got.has_attachments
    assert mailbox.message_attachment("arya@got.com", "INBOX", message_id, "2", client=client) == blob
    assert [m.subject for m in mailbox.folder_messages("jon@got.com", "Sent", client=client)] == ["Raven"]

    spare = mailbox.upload_attachment("spare.txt", b"x", "text/plain", client=client)
    mailbox.delete_attachment(str(spare.uid), "spare.txt", client=client)
    with pytest.raises(errors.NotFoundError, match=r"File not found\."):
        mailbox.delete_attachment(str(spare.uid), "spare.txt", client=client)


def test_deleting_a_user_deletes_its_mailbox(backend: CleanmailBackend, jon: dict[str, Any]) -> None:
    assert subjects(backend, jon["id"], "INBOX") == SEEDED["INBOX"]
    assert any(m["userId"] == jon["id"] for m in backend._objects["mail"].values())
    backend.delete_user(jon["id"])
    assert not any(m["userId"] == jon["id"] for m in backend._objects["mail"].values())
