"""Who receives a domain's administrative mail."""

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=True,
                          archive=False)
cleanmail.DomainOption("admin", domain_id=domain.id, name="DOMAIN_ADMIN", value="postmaster@example.com")
