"""A template whose rules are declared inline (authoritative: rules not listed are removed)."""

import pulumi

from pulumi_mailinfra import greenarrow

standard = greenarrow.ThrottlingTemplate(
    "standard",
    default={"max_concurrent_connections": 10, "max_messages_per_hour": 0},
    rules=[
        {
            "domains": ["gmail.com", "[*.]googlemail.com"],
            "max_concurrent_connections": 20,
            "max_messages_per_hour": 36000,
            "throttle_program": {"name": "Automatic Backoff"},
        },
        greenarrow.TemplateRuleArgs(domains=["*.yahoo.com"], max_concurrent_connections=5, max_messages_per_hour=0),
    ],
)
pulumi.export("rule_ids", standard.rule_ids)
pulumi.export("users", greenarrow.get_template_used_by(standard.id))
