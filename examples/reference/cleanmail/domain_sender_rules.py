"""A domain's whole white / block list, kept exactly as written here."""

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=True,
                          archive=False)
cleanmail.DomainSenderRules(
    "example-senders",
    domain_id=domain.id,
    rules=[
        {"value": "partner.example", "type": "ALLOW", "spf_on": True},
        {"value": "spam.example", "type": "BLOCK", "description": "bulk sender"},
        {"value": "ceo-lookalike@evil.example", "type": "BLOCK", "expire_at": "2027-06-30T00:00:00Z"},
    ],
)
