"""A new account that administers one domain's filtering, and an existing account given read access."""

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=True,
                          archive=False)
security = cleanmail.DomainAdmin(
    "security-team",
    domain_id=domain.id,
    login="security-team",
    display_name="Security team",
    email="security@example.com",
    password="change-me-now",  # better: config.require_secret("securityPassword"); always secret in state
    permissions=["DOMAIN_READ", "FILTERS_WRITE", "WBLIST_WRITE"],
)
auditor = cleanmail.DomainAdmin(
    "auditor",
    domain_id=domain.id,
    admin_id=cleanmail.get_admin("auditor").apply(lambda account: account["id"]),
    permissions=["DOMAIN_READ"],
)
token = cleanmail.AdminToken("security-ci", admin_id=security.id, name="ci")
