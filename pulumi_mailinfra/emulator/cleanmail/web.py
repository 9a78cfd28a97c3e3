"""What the Cleanmail emulator's HTTP modules share: reading a JSON body, answering a list page."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from .common import BadRequest


async def json_body(request: Request, error_prefix: str = "") -> Any:
    """The request's JSON body (None when empty); 400 when it is not JSON, the message after `error_prefix`."""
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise BadRequest(f"{error_prefix}the body is not valid JSON") from None


def listing(items: list[dict[str, Any]], total: int) -> JSONResponse:
    """A page of a list, its total in `X-Total-Count` (exposed to browsers)."""
    return JSONResponse(items, headers={"X-Total-Count": str(total), "Access-Control-Expose-Headers": "X-Total-Count"})
