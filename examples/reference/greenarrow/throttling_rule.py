"""Rules managed one by one in a template that declares no inline `rules` (e.g. one per team's stack)."""

from pulumi_mailinfra import greenarrow

pool = greenarrow.ThrottlingTemplate("pool", default={"max_concurrent_connections": 4, "max_messages_per_hour": 0})
greenarrow.ThrottlingRule(
    "outlook",
    template_id=pool.id,
    domains=["outlook.com", "hotmail.com"],
    max_concurrent_connections=8,
    max_messages_per_hour=12000,
)
