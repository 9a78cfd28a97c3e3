"""Every alias of a domain, as one list (aliases added by hand are removed on the next update)."""

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=False,
                          archive=False)
cleanmail.DomainAliases("example-aliases", domain_id=domain.id, names=["example.net", "example.org"])
