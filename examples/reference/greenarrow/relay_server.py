"""A relay pair: the primary authenticates and redirects to the fallback, which relays without credentials."""

import pulumi

from pulumi_mailinfra import greenarrow

fallback = greenarrow.RelayServer(
    "fallback",
    source_ip={"ip": "192.0.2.20", "hostname": "fallback.mail.example.com"},
    destination={"hostname": "smtp-fallback.example.net", "port": 25},
)
primary = greenarrow.RelayServer(
    "primary",
    source_ip=greenarrow.SourceIpArgs(ip="192.0.2.10", hostname="mail.example.com"),
    destination={
        "hostname": "smtp.example.net",
        "port": 587,
        "username": "relay",
        "password": pulumi.Config().require_secret("relayPassword"),
    },
    throttle_limits={"max_concurrent_connections": 10, "max_messages_per_hour": 5000},  # 0 = unlimited
    redirect={"id": fallback.id},  # or {"name": "any VirtualMTA"}
)
pulumi.export("primary_name", primary.name)
