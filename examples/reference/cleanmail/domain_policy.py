"""A stricter policy for a domain's executives: quarantine everything suspicious for 60 days."""

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("example", name="example.com", default_language="EN", quarantine=True, retention=False,
                          archive=False)
cleanmail.DomainPolicy(
    "executives",
    domain_id=domain.id,
    quarantine=True,
    retention=False,
    incoming=True,
    spam_score=3.5,
    relay_props={"relay_spam": False, "prefix_spam": "[SPAM]"},
    quarantine_props={"duration": 60, "store_spam": True, "store_virus": True},
)
