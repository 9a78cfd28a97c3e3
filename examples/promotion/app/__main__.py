"""One environment of the mail path; the stack name is the environment (dev, staging, prod).

It builds on the shared stack (../shared), read through `pulumi.StackReference` (project config `sharedStack`):

- `env-throttle`: this environment's rule in the company's throttling template (the shared `template_id`): mail to
  the environment's own domain is capped, so test traffic never competes with real traffic;
- `relay`: the environment's GreenArrow relay server (its password is the secret `relayPassword`);
- `main-route`: the environment's CloudMTA route, overflowing into the shared `corp-overflow` route;
- `env-domain`: the environment's Cleanmail domain, `<stack>.promotion.example`, which only the relay may send for;
- `ops`: the environment's ops mailbox in the corporate domain, under the company-wide `compliance` policy;
- `mail-path`: last, an Elemta delivery check that proves the path after every change to it (and is what
  `mailinfra promote` requires to have been delivered before it promotes this stack to the next).

Provider settings come from the GREENARROW_* / CLEANMAIL_* / ELEMTA_* environment variables or the stack's
`mailinfra:*` config (README.md of the repository, "Using it in your own stack").
"""

import pulumi

from pulumi_mailinfra import cleanmail, elemta, greenarrow

config = pulumi.Config()
environment = pulumi.get_stack()

# The deployment gate: preview, up and `mailinfra promote` stop before any change while the MTA is unwell.
elemta.require_healthy(max_deferred=config.get_int("gateMaxDeferred") or 100,
                       max_failed=config.get_int("gateMaxFailed") or 20)

shared = pulumi.StackReference("shared", stack_name=config.require("sharedStack"))


def shared_output(name: str) -> pulumi.Output[str]:
    """An output of the shared stack; fails the program (naming it) when the shared stack does not export it."""
    return shared.require_output(name).apply(str)


template_id = shared_output("template_id")
overflow_route_id = shared_output("overflow_route_id")
corp_domain_id = shared_output("corp_domain_id")
corp_domain_name = shared_output("corp_domain_name")
compliance_policy_id = shared_output("compliance_policy_id")

mail_domain = f"{environment}.promotion.example"
relay_ip = config.require("relaySourceIp")

env_throttle = greenarrow.ThrottlingRule(
    "env-throttle",
    template_id=template_id,
    domains=[f"[*.]{mail_domain}"],
    max_concurrent_connections=2,
    max_messages_per_hour=600,
)
relay = greenarrow.RelayServer(
    "relay",
    source_ip={"ip": relay_ip, "hostname": f"relay.{mail_domain}"},
    destination={
        "hostname": "smtp.example.net",
        "port": 587,
        "username": f"relay-{environment}",
        "password": config.require_secret("relayPassword"),
    },
    throttle_limits={"max_concurrent_connections": 10, "max_messages_per_hour": 5000},
)
main_route = greenarrow.Route(
    "main-route",
    requested_target_daily_volume=config.get_int("dailyVolume") or 50000,
    overflow_route={"id": overflow_route_id},
)
domain = cleanmail.Domain(
    "env-domain",
    name=mail_domain,
    description=f"The {environment} environment's mail domain",
    default_language="EN",
    quarantine=True,
    retention=True,
    archive=False,
    outgoing_subnets=[f"{relay_ip}/32"],
    platforms=[{"name": "relay", "transport_dest": "smtp.example.net", "transport_type": "SMTP",
                "transport_port": 25, "default": True}],
)
ops = cleanmail.User(
    "ops",
    domain_id=corp_domain_id,
    email=corp_domain_name.apply(lambda corp: f"ops-{environment}@{corp}"),
    firstname="Ops",
    lastname=environment,
    policy_id=compliance_policy_id,
)

# Last: sends a test message once everything above is in place, and again whenever one of them (or a shared id
# it relies on) changes.
delivery = elemta.DeliveryCheck(
    "mail-path",
    sender=f"postmaster@{mail_domain}",
    recipient=ops.email,
    triggers=[env_throttle.id, relay.id, main_route.id, domain.id, ops.id, template_id, compliance_policy_id],
    timeout_seconds=60,
    poll_interval_seconds=0.25,
)

pulumi.export("throttle_rule_id", env_throttle.id)
pulumi.export("relay", {"id": relay.id, "name": relay.name})
pulumi.export("main_route", {"id": main_route.id, "name": main_route.name, "overflow_route": main_route.overflow_route,
                             "recommended_max_daily_volume": main_route.recommended_max_daily_volume})
pulumi.export("domain", {"id": domain.id, "name": domain.name})
pulumi.export("ops_mailbox", {"id": ops.id, "email": ops.email})
pulumi.export("delivery_check", {"state": delivery.state, "message_id": delivery.message_id})
