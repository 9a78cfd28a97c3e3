"""One account's own value of an option its domain also sets."""

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=True,
                          archive=False)
jane = cleanmail.User("jane", domain_id=domain.id, email="jane@example.com")
cleanmail.UserOption("jane-reports", user_id=jane.id, name="REPORT_FREQUENCY", value="WEEKLY")
