"""Deny spreadsheets with macros in a domain, whatever the sender."""

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=True,
                          archive=False)
cleanmail.AttachmentFilter("no-macro-sheets", domain_id=domain.id, action="DENY", check_type="FILENAME",
                           filter="[.]xlsm$", description="macro-enabled spreadsheets")
cleanmail.AttachmentFilter("no-archived-exe", domain_id=domain.id, action="DENY",
                           check_type="ARCHIVE-CONTENTTYPE", filter="application/x-msdownload")
