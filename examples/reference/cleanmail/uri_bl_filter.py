"""Trust links to the company's own hosts; penalise a known bad one."""

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=True,
                          archive=False)
cleanmail.UriBlFilter("own-links", domain_id=domain.id, action="WHITELIST_URI_HOST", filter="example.com")
cleanmail.UriBlFilter("bad-links", domain_id=domain.id, action="BLACKLIST_URI_HOST", filter="bulist.com",
                      description="phishing landing pages")
