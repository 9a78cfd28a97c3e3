"""An account in a domain, its password from the stack's secret config."""

import pulumi

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=True,
                          archive=False)
user = cleanmail.User(
    "jane",
    domain_id=domain.id,
    email="jane@example.com",
    firstname="Jane",
    lastname="Doe",
    password=pulumi.Config().require_secret("janePassword"),
)
pulumi.export("jane_id", user.id)
