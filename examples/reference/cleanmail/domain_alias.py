"""Aliases added one by one, e.g. from several teams' stacks (never with a DomainAliases on the same domain)."""

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=False,
                          archive=False)
cleanmail.DomainAlias("example-net", domain_id=domain.id, name="example.net")
