"""Look-ups usable from a Pulumi program (and plain scripts): find GreenArrow objects by name.

Dynamic providers cannot serve invokes, so these call the API from the program itself, using the same
stack config (`mailinfra:greenarrow*`) or environment variables as the resources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi

from ..config import program_config
from ..diagnostics import program_output
from ..errors import NotFoundError

if TYPE_CHECKING:
    from .client import GreenArrowClient


def _default_client() -> GreenArrowClient:
    from .client import greenarrow_client  # httpx loads on a program's first look-up, not at import

    return greenarrow_client(program_config())


_KINDS = {
    "relay_server": ("/relay_servers", "relay_servers"),
    "throttling_template": ("/throttling_templates", "throttling_templates"),
    "route": ("/routes", "routes"),
}


def _strip_secrets(record: dict[str, Any]) -> dict[str, Any]:
    destination = record.get("destination")
    if isinstance(destination, Mapping) and destination.get("password") is not None:
        record = {**record, "destination": {**destination, "password": None}}
    return record


def find(kind: str, name: str, client: GreenArrowClient | None = None) -> dict[str, Any]:
    """The full record of the `kind` object named `name` (case-insensitive); NotFoundError if none.
    Relay-server passwords are left out: read them from your own secret store."""
    client = client or _default_client()
    collection, items_key = _KINDS[kind]
    summary = client.find_by_name(collection, items_key, name)
    if summary is None:
        raise NotFoundError("greenarrow", "GET", collection, 404, "not_found", [f"no {kind} named {name!r}"])
    record = client.get(client.path(f"{collection}/{summary['id']}"))
    return _strip_secrets(dict(record.get(kind) or record))


def used_by(template_id: int | str, client: GreenArrowClient | None = None) -> list[dict[str, Any]]:
    """The `{type, id, name}` of every object that uses a throttling template."""
    client = client or _default_client()
    return list(client.list_all(f"/throttling_templates/{int(template_id)}/used_by", "used_by"))


def get_relay_server(name: pulumi.Input[str]) -> pulumi.Output[dict[str, Any]]:
    """The full record of the relay server named `name` (case-insensitive), password left out; fails the
    program when there is none. Uses the stack's `mailinfra:greenarrow*` settings."""
    return program_output(lambda n: find("relay_server", n), name)


def get_throttling_template(name: pulumi.Input[str]) -> pulumi.Output[dict[str, Any]]:
    """The full record of the throttling template named `name` (case-insensitive), rules included."""
    return program_output(lambda n: find("throttling_template", n), name)


def get_route(name: pulumi.Input[str]) -> pulumi.Output[dict[str, Any]]:
    """The full record of the CloudMTA route named `name` (case-insensitive), recommendations included."""
    return program_output(lambda n: find("route", n), name)


def get_template_used_by(template_id: pulumi.Input[int | str]) -> pulumi.Output[list[dict[str, Any]]]:
    """The `{type, id, name}` of every object (IP addresses) that uses the throttling template."""
    return program_output(used_by, template_id)


# For the generated reference pages: which look-ups belong with which resource.
RESOURCE_LOOKUPS = {
    "RelayServer": [get_relay_server],
    "ThrottlingTemplate": [get_throttling_template, get_template_used_by],
    "Route": [get_route],
}
