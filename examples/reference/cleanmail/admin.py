"""The settings of an account made by hand: its address and language managed, TOTP turned off after a lost phone."""

from pulumi_mailinfra import cleanmail

account = cleanmail.Admin(
    "helpdesk",
    admin_id=cleanmail.get_admin("helpdesk").apply(lambda found: found["id"]),
    email="helpdesk@example.com",
    language="FR",
    totp=False,
)
