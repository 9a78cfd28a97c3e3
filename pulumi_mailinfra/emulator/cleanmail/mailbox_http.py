"""HTTP routes of the Cleanmail emulator's mailbox operations (5.7 Emails), added to ``cleanmail_router`` before
its catch-all.

A folder path is one path segment, its ``/`` encoded (``INBOX%2FArchive``): the server decodes the path before
routing, so the segments are read again from the raw path. A path whose segments do not say where the folder
ends (``/users/u/emails/INBOX/Archive``, unencoded) is read as a folder when the whole rest names one.
Uploads are ``multipart/form-data`` with a part named ``file``, parsed with the ``email`` package (no
python-multipart here). Files are answered with ``Content-Disposition`` ``attachment`` when ``dl`` is given
(and not ``false`` / ``0``), ``inline`` otherwise."""

from __future__ import annotations

import email.policy
from collections.abc import Awaitable, Callable
from email.parser import BytesParser
from typing import Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from .common import BadRequest, NotFound
from .mailbox import BAD_PARAMETERS
from .web import json_body, listing


def _segments(request: Request, rest: str) -> list[str]:
    """The segments of `rest` (the decoded tail of the path) as the client sent them, each decoded."""
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes):
        parts = raw.decode("latin-1").split("/")
        for start in range(len(parts) - 1, -1, -1):
            if unquote("/".join(parts[start:])) == rest:
                return [unquote(p) for p in parts[start:]]
    return rest.split("/")


def _disposition(request: Request, name: str) -> dict[str, str]:
    download = request.query_params.get("dl")
    kind = "attachment" if download is not None and download.lower() not in ("false", "0") else "inline"
    return {"Content-Disposition": f"{kind}; filename*=UTF-8''{quote(name, safe='')}"}


async def _uploaded_file(request: Request) -> tuple[str | None, str | None, bytes]:
    """The `file` part of a multipart/form-data body: its file name, content type and bytes."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise BadRequest(f"{BAD_PARAMETERS} file: send the file as multipart/form-data (a part named file)")
    raw = await request.body()
    parsed = BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
    if parsed.is_multipart():
        for part in parsed.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                payload = part.get_payload(decode=True)
                data = payload if isinstance(payload, bytes) else b""
                return part.get_filename(), part.get_content_type() if part.get("content-type") else None, data
    raise BadRequest(f"{BAD_PARAMETERS} file: required (a multipart/form-data part named file)")


def add_mailbox_routes(router: APIRouter, backend: Any, call: Callable[..., Awaitable[Any]]) -> None:
    """Register 5.7 on `router` (which has the prefix, the Bearer auth and the error answers). Order matters:
    `/emails/folders` and `/emails/send` come before the `/emails/{folder...}` routes that would match them."""

    def file(found: tuple[bytes, str, str], request: Request) -> Response:
        data, content_type, name = found
        return Response(data, media_type=content_type, headers=_disposition(request, name))

    @router.post("/emails/attachments", name="mailbox_upload_attachment")
    async def upload_attachment(request: Request) -> JSONResponse:
        name, content_type, data = await _uploaded_file(request)
        return JSONResponse(await call(backend.upload_file, name, content_type, data))

    @router.get("/emails/attachments/{uid}/{filename}", name="mailbox_download_attachment")
    async def download_attachment(uid: str, filename: str, request: Request) -> Response:
        return file(await call(backend.download_file, uid, filename), request)

    @router.delete("/emails/attachments/{uid}/{filename}", name="mailbox_delete_attachment")
    async def delete_attachment(uid: str, filename: str) -> JSONResponse:
        return JSONResponse(await call(backend.delete_file, uid, filename))

    @router.get("/users/{user}/emails/folders", name="mailbox_folders")
    async def folders(user: str, request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.mail_folders, user, None, dict(request.query_params)))

    @router.get("/users/{user}/emails/folders/{parent:path}", name="mailbox_subfolders")
    async def subfolders(user: str, parent: str, request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.mail_folders, user, parent, dict(request.query_params)))

    @router.post("/users/{user}/emails/send", name="mailbox_send")
    async def send(user: str, request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.send_mail, user, await json_body(request, f"{BAD_PARAMETERS} ")))

    @router.get("/users/{user}/emails/{rest:path}", name="mailbox_read")
    async def read(user: str, rest: str, request: Request) -> Response:
        parts, params = _segments(request, rest), dict(request.query_params)
        if len(parts) == 1 or (len(parts) > 1 and backend.is_mail_folder(rest)):
            return listing(*await call(backend.folder_content, user, "/".join(parts), params))
        if len(parts) == 2:
            return JSONResponse(await call(backend.get_mail, user, parts[0], parts[1], params))
        if len(parts) == 3 and parts[2] == "attachments":
            if "dl" in params and params["dl"].lower() not in ("false", "0"):
                data, name = await call(backend.mail_archive, user, parts[0], parts[1])
                return file((data, "application/zip", name), request)
            return JSONResponse(await call(backend.mail_attachments, user, parts[0], parts[1]))
        if len(parts) == 4 and parts[2] == "attachments":
            return file(await call(backend.mail_attachment, user, parts[0], parts[1], parts[3]), request)
        raise NotFound(f"no such endpoint: {request.method} {request.url.path}")

    @router.post("/users/{user}/emails/{rest:path}", name="mailbox_release")
    async def release(user: str, rest: str, request: Request) -> Response:
        parts = _segments(request, rest)
        if len(parts) != 3 or parts[2] != "release":
            raise NotFound(f"no such endpoint: {request.method} {request.url.path}")
        await call(backend.release_mail, user, parts[0], parts[1], "x-virus-lover" in request.headers)
        return Response(status_code=204)
