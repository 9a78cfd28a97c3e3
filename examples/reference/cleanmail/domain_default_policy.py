"""The default policy a domain is created with: raise its spam threshold and keep quarantined mail longer."""

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=False,
                          archive=False)
cleanmail.DomainDefaultPolicy(
    "example-default",
    domain_id=domain.id,
    spam_score=6.0,
    quarantine_props={"duration": 45},
)
