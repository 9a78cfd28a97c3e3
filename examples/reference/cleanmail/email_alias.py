"""An alias delivering to two accounts and an outside address."""

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=True,
                          archive=False)
jane = cleanmail.User("jane", domain_id=domain.id, email="jane@example.com")
cleanmail.EmailAlias(
    "support",
    domain_id=domain.id,
    email="support@example.com",
    recipients=[jane.email, "john@example.com", "oncall@partner.example.net"],
)
