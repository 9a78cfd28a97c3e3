"""A token for the reporting job, valid until the end of next year; its value goes to the job's own stack."""

import pulumi

from pulumi_mailinfra import cleanmail

admin = cleanmail.get_domain_admins(cleanmail.get_domain("example.com").apply(lambda d: d["id"]))
token = cleanmail.AdminToken("reporting", admin_id=admin.apply(lambda admins: admins[0]["id"]),
                             name="reporting-job", expiration="2027-12-31T00:00:00Z")
pulumi.export("reporting_token", token.value)  # secret: shown as [secret], encrypted in state
