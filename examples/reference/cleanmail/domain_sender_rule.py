"""Block a spammer's domain for a domain, until the end of next year."""

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=True,
                          archive=False)
cleanmail.DomainSenderRule("block-spammer", domain_id=domain.id, value="spam.example", type="BLOCK",
                           expire_at="2027-12-31T23:59:59Z", description="bulk sender, complaint 4711")
cleanmail.DomainSenderRule("trust-partner", domain_id=domain.id, value="orders@partner.example", type="ALLOW",
                           spf_on=True)
