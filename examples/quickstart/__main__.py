"""Quickstart: a throttled relay pair and a CloudMTA route with overflow, deployed per stack.

Provider settings come from stack config (`mailinfra:greenarrowUrl`, `...Username`, `...Password`) or
the GREENARROW_URL / GREENARROW_USERNAME / GREENARROW_PASSWORD environment variables."""

import pulumi

from pulumi_mailinfra import greenarrow

config = pulumi.Config()
environment = config.get("environment") or pulumi.get_stack()
# A plain string is fine: the provider stores the destination password as a secret regardless.
relay_password = config.get_secret("relayPassword") or "quickstart-relay-password"

template = greenarrow.ThrottlingTemplate(
    "standard-throttling",
    default={"max_concurrent_connections": 10, "max_messages_per_hour": 0},
    rules=[
        {
            "domains": ["gmail.com", "[*.]googlemail.com"],
            "max_concurrent_connections": 20,
            "max_messages_per_hour": 36000,
            "throttle_program": {"name": "Automatic Backoff"},
        },
        {"domains": ["*.yahoo.com"], "max_concurrent_connections": 5, "max_messages_per_hour": 0},
    ],
)

# A template whose rules are managed one by one (no inline `rules`), e.g. by several teams' stacks.
partner_template = greenarrow.ThrottlingTemplate(
    "partner-throttling", default={"max_concurrent_connections": 4, "max_messages_per_hour": 1000}
)
outlook_rule = greenarrow.ThrottlingRule(
    "outlook-rule",
    template_id=partner_template.id,
    domains=["outlook.com", "hotmail.com"],
    max_concurrent_connections=8,
    max_messages_per_hour=12000,
)

fallback_relay = greenarrow.RelayServer(
    "fallback-relay",
    source_ip={"ip": "192.0.2.20", "hostname": "fallback.mail.example.com"},
    destination={"hostname": "smtp-fallback.example.net", "port": 587, "username": "relay"},
    throttle_limits={"max_concurrent_connections": 2, "max_messages_per_hour": 600},
)

primary_relay = greenarrow.RelayServer(
    "primary-relay",
    source_ip={"ip": "192.0.2.10", "hostname": "mail.example.com"},
    destination={
        "hostname": "smtp.example.net",
        "port": 587,
        "username": f"relay-{environment}",
        "password": relay_password,
    },
    throttle_limits={"max_concurrent_connections": 10, "max_messages_per_hour": 5000},
    redirect={"id": fallback_relay.id},
)

overflow_route = greenarrow.Route("overflow-route", requested_target_daily_volume=25000)
main_route = greenarrow.Route(
    "main-route",
    requested_target_daily_volume=int(config.get("dailyVolume") or 50000),
    overflow_route={"id": overflow_route.id},
)

pulumi.export("template_id", template.id)
pulumi.export("template_rule_ids", template.rule_ids)
pulumi.export("partner_template_id", partner_template.id)
pulumi.export("outlook_rule_id", outlook_rule.id)
pulumi.export("primary_relay", {"id": primary_relay.id, "name": primary_relay.name})
pulumi.export("fallback_relay", {"id": fallback_relay.id, "name": fallback_relay.name})
pulumi.export("primary_redirect", primary_relay.redirect)
pulumi.export("main_route", {
    "name": main_route.name,
    "recommended_max_daily_volume": main_route.recommended_max_daily_volume,
    "recommended_max_delivery_rate_per_hour": main_route.recommended_max_delivery_rate_per_hour,
    "routing_rule": main_route.routing_rule,
})
