"""A small mail stack on the three services: a GreenArrow relay server, a Cleanmail domain with an account, and
an Elemta delivery check that sends a test message whenever either changes."""

import pulumi

from pulumi_mailinfra import cleanmail, elemta, greenarrow

config = pulumi.Config()
domain_name = config.get("mailDomain") or "example.test"

relay = greenarrow.RelayServer(
    "relay",
    source_ip={"ip": "192.0.2.10", "hostname": f"mail.{domain_name}"},
    destination={"hostname": "smtp.example.net", "port": 25},
)
domain = cleanmail.Domain("domain", name=domain_name, default_language="EN", quarantine=True, retention=False,
                          archive=False)
postmaster = cleanmail.User("postmaster", domain_id=domain.id, email=f"postmaster@{domain_name}")
check = elemta.DeliveryCheck("mail-path", sender=f"postmaster@{domain_name}", recipient="probe@example.net",
                             triggers=[relay.id, domain.id], timeout_seconds=60)

pulumi.export("relay_name", relay.name)
pulumi.export("domain_id", domain.id)
pulumi.export("delivery", check.state)
