"""Prove the mail path after every change to the resources on it: the gate first, the check last."""

import pulumi

from pulumi_mailinfra import elemta, greenarrow

elemta.require_healthy(max_deferred=100, max_failed=10)  # stops preview and up before any change

relay = greenarrow.RelayServer(
    "relay",
    source_ip={"ip": "192.0.2.10", "hostname": "mail.example.com"},
    destination={"hostname": "smtp.example.net", "port": 25},
)
check = elemta.DeliveryCheck(
    "mail-path",
    sender="postmaster@example.com",
    recipient="probe@example.net",
    triggers=[relay.id],  # a new or replaced relay server sends another test message
    timeout_seconds=60,
)
pulumi.export("delivery", {"message_id": check.message_id, "state": check.state, "seconds": check.duration_seconds})
