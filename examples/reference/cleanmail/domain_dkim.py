"""A generated DKIM key for a domain, with the DNS record to publish."""

import pulumi

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=False,
                          archive=False)
dkim = cleanmail.DomainDkim("example-dkim", domain_id=domain.id, domain_name=domain.name)
pulumi.export("dkim_record", {"name": dkim.dns_record_name, "value": dkim.txt_value})
