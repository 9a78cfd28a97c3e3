"""Let a domain's users release their own quarantined mail and keep their own sender lists."""

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=True,
                          archive=False)
cleanmail.DomainUsersAccess("example-users", domain_id=domain.id,
                            permissions=["QUARANTINE_READ", "QUARANTINE_RELEASE", "WBLIST_WRITE"])
