"""One security team's block list across several domains and a mailbox, added in one request."""

from pulumi_mailinfra import cleanmail

cleanmail.SenderRules(
    "security-team-blocks",
    rules=[
        {"owner": "example.com", "value": "phish.example", "type": "BLOCK", "description": "campaign 2026-11"},
        {"owner": "example.org", "value": "phish.example", "type": "BLOCK", "description": "campaign 2026-11"},
        {"owner": "ceo@example.com", "value": "lookalike.example", "type": "BLOCK"},
    ],
)
