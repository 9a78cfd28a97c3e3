"""An account's HTML signature."""

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=True,
                          archive=False)
user = cleanmail.User("jane", domain_id=domain.id, email="jane@example.com")
cleanmail.UserSignature("jane-signature", user_id=user.id, html="Jane Doe<br/>Example Inc.")
