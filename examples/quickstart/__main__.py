"""Quickstart: a throttled relay pair and a CloudMTA route with overflow (GreenArrow), and the Cleanmail
domain those relays send for (its allowed subnets are the relays' source IPs), with its policies, DKIM,
aliases, users and an email alias; deployed per stack. Elemta guards it: the deployment gate stops preview
and up before any change when the MTA is unhealthy or its queues are backed up, and a delivery check sends
a test message through it after every change to the mail path.

Provider settings come from stack config (`mailinfra:greenarrowUrl`, `...Username`, `...Password`,
`mailinfra:cleanmailUrl`, `...Token`, `mailinfra:elemtaUrl`) or the GREENARROW_* / CLEANMAIL_* / ELEMTA_*
environment variables. The program's own settings are declared with their types, defaults and secrecy in the
root Pulumi.yaml (`config:`), so `pulumi preview` refuses a stack missing one or giving a wrong type."""

import pulumi

from pulumi_mailinfra import cleanmail, elemta, greenarrow

config = pulumi.Config()
elemta.require_healthy(max_deferred=config.require_int("gateMaxDeferred"),
                       max_failed=config.require_int("gateMaxFailed"))
environment = config.require("environment")
relay_password = config.require_secret("relayPassword")

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

# ----- the Cleanmail domain the relays send for --------------------------------------------------------
mail_domain = config.get("mailDomain") or f"{environment}.quickstart.example"
user_password = config.require_secret("userPassword")
relay_subnets = pulumi.Output.all(fallback_relay.source_ip, primary_relay.source_ip).apply(
    lambda sources: sorted({f"{source['ip']}/32" for source in sources})
)
domain = cleanmail.Domain(
    "quickstart-domain",
    name=mail_domain,
    default_language="EN",
    quarantine=True,
    retention=True,
    archive=False,
    outgoing_subnets=relay_subnets,
    platforms=[
        {
            "name": "relay",
            "transport_dest": primary_relay.destination.apply(lambda destination: destination["hostname"]),
            "transport_type": "SMTP",
            "transport_port": 25,
            "default": True,
        }
    ],
)
cleanmail.DomainDefaultPolicy("quickstart-default-policy", domain_id=domain.id, spam_score=6.0)
executives = cleanmail.DomainPolicy(
    "executives-policy",
    domain_id=domain.id,
    quarantine=True,
    retention=True,
    incoming=True,
    spam_score=4.0,
    quarantine_props={"duration": 60, "store_virus": True},
)
dkim = cleanmail.DomainDkim("quickstart-dkim", domain_id=domain.id, domain_name=domain.name)
cleanmail.DomainAliases("quickstart-aliases", domain_id=domain.id, names=[f"alias.{mail_domain}"])
ceo = cleanmail.User(
    "ceo",
    domain_id=domain.id,
    email=f"ceo@{mail_domain}",
    firstname="Casey",
    password=user_password,
    policy_id=executives.id,
)
ops = cleanmail.User("ops", domain_id=domain.id, email=f"ops@{mail_domain}", password=user_password)
cleanmail.EmailAlias(
    "postmaster", domain_id=domain.id, email=f"postmaster@{mail_domain}", recipients=[ceo.email, ops.email]
)
cleanmail.DomainOption("domain-admin", domain_id=domain.id, name="DOMAIN_ADMIN", value=f"postmaster@{mail_domain}")

overflow_route = greenarrow.Route("overflow-route", requested_target_daily_volume=25000)
main_route = greenarrow.Route(
    "main-route",
    requested_target_daily_volume=config.require_int("dailyVolume"),
    overflow_route={"id": overflow_route.id},
)

# Proves the mail path after every change to it: the relays, the route and the domain with its policy.
delivery = elemta.DeliveryCheck(
    "mail-path-check",
    sender=f"postmaster@{mail_domain}",
    recipient=f"ops@{mail_domain}",
    triggers=[primary_relay.id, fallback_relay.id, main_route.id, domain.id, executives.id,
              main_route.requested_target_daily_volume.apply(str)],
    timeout_seconds=60,
    poll_interval_seconds=0.25,
    opts=pulumi.ResourceOptions(depends_on=[ops]),
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
pulumi.export("domain", {"id": domain.id, "name": domain.name, "outgoing_subnets": domain.outgoing_subnets})
pulumi.export("dkim_record", {"name": dkim.dns_record_name, "value": dkim.txt_value})
pulumi.export("delivery_check", {"message_id": delivery.message_id, "state": delivery.state,
                                  "seconds": delivery.duration_seconds})
