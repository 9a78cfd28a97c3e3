"""Request payloads shared by the test suites, starting from the API docs' own examples."""

from __future__ import annotations

from typing import Any


def relay_payload(name: str = "relay-1", **overrides: Any) -> dict[str, Any]:
    """The docs' relay server example; `overrides` use `a__b=value` for nested keys."""
    payload: dict[str, Any] = {
        "name": name,
        "source_ip": {"ip": "127.0.0.2", "hostname": "outgoing-hostname.com"},
        "destination": {"hostname": "destination-hostname.com", "port": 25, "username": "u", "password": "p"},
        "throttle_limits": {"max_concurrent_connections": 2, "max_messages_per_hour": 120},
        "redirect": None,
    }
    for path, value in overrides.items():
        target = payload
        *parents, leaf = path.split("__")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    return payload
