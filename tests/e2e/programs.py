"""Inline Pulumi programs the end-to-end tests deploy; each takes its knobs as arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from pulumi_mailinfra import greenarrow

RELAY_PASSWORD = "pw-Zq8vN3xTr5"  # must never appear in state or preview text


def mail_stack(
    *,
    port: int = 25,
    rule_template: str = "pool-a",
    hourly: int = 500,
    extra_rule: bool = False,
    volume: int = 50000,
    names: dict[str, str] | None = None,
) -> Callable[[], None]:
    """Two relays (one redirecting to the other), three templates with a standalone rule in one of them,
    two routes (one overflowing to the other): every kind of dependency the provider resolves."""
    names = names or {}

    def program() -> None:
        fallback = greenarrow.RelayServer(
            "fallback",
            name=names.get("fallback"),
            source_ip={"ip": "192.0.2.20", "hostname": "fallback.example.com"},
            destination={"hostname": "smtp-fallback.example.net", "port": 25},
        )
        primary = greenarrow.RelayServer(
            "primary",
            name=names.get("primary"),
            source_ip={"ip": "192.0.2.10", "hostname": "mail.example.com"},
            destination={"hostname": "smtp.example.net", "port": port, "username": "relay",
                         "password": RELAY_PASSWORD},
            throttle_limits={"max_concurrent_connections": 4, "max_messages_per_hour": hourly},
            redirect={"id": fallback.id},
        )
        rules: list[dict[str, Any]] = [
            {"domains": ["gmail.com"], "max_concurrent_connections": 20, "max_messages_per_hour": 36000,
             "throttle_program": {"name": "automatic backoff"}},
            {"domains": ["*.yahoo.com"], "max_concurrent_connections": 5, "max_messages_per_hour": 0},
        ]
        if extra_rule:
            rules.append({"domains": ["[*.]aol.com"], "max_concurrent_connections": 2, "max_messages_per_hour": 60})
        templates = {
            key: greenarrow.ThrottlingTemplate(
                f"{key}-template",
                default={"max_concurrent_connections": 10, "max_messages_per_hour": 0},
                # Pools leave their rules to standalone ThrottlingRule resources.
                rules=rules if key == "primary" else None,
            )
            for key in ("primary", "pool-a", "pool-b")
        }
        rule = greenarrow.ThrottlingRule(
            "outlook-rule", template_id=templates[rule_template].id, domains=["outlook.com"],
            max_concurrent_connections=8, max_messages_per_hour=1200,
        )
        overflow = greenarrow.Route("overflow", requested_target_daily_volume=25000)
        main = greenarrow.Route("main", requested_target_daily_volume=volume, overflow_route={"id": overflow.id})
        pulumi.export("primary_id", primary.id)
        pulumi.export("primary_name", primary.name)
        pulumi.export("fallback_id", fallback.id)
        pulumi.export("redirect", primary.redirect)
        pulumi.export("destination", primary.destination)
        pulumi.export("primary_template_id", templates["primary"].id)
        pulumi.export("pool_a_template_id", templates["pool-a"].id)
        pulumi.export("pool_b_template_id", templates["pool-b"].id)
        pulumi.export("rule_ids", templates["primary"].rule_ids)
        pulumi.export("rule_id", rule.id)
        pulumi.export("main_route", {"id": main.id, "name": main.name,
                                     "recommended_max_daily_volume": main.recommended_max_daily_volume,
                                     "routing_rule": main.routing_rule})

    return program


def single_relay(**fields: Any) -> Callable[[], None]:
    def program() -> None:
        relay = greenarrow.RelayServer("relay", **fields)
        pulumi.export("id", relay.id)
        pulumi.export("name", relay.name)

    return program
