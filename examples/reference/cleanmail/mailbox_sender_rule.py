"""Let one mailbox receive a newsletter its domain would block."""

import pulumi

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=True,
                          archive=False)
jane = cleanmail.User("jane", domain_id=domain.id, email="jane@example.com",
                      password=pulumi.Config().require_secret("janePassword"))
cleanmail.MailboxSenderRule("jane-newsletter", user_id=jane.id, value="news@letters.example", type="ALLOW",
                            spf_on=False)
