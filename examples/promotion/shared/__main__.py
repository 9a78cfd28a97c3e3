"""The shared stack: what every environment of the mail program uses, owned in one place.

- `corp-throttling`, the company's GreenArrow throttling template. It declares no inline `rules`, so its rules
  are `ThrottlingRule` resources: this stack owns the company-wide one (`gmail`), each environment's stack adds
  its own (see ../app), and neither reports the other's as drift.
- `corp-overflow`, the CloudMTA route every environment's main route overflows into.
- `corp`, the corporate Cleanmail domain, with `compliance`, the company-wide policy (quarantine, a year of
  retention) that the environments' ops mailboxes are put under.

The ids are exported for `pulumi.StackReference` (../app/__main__.py reads them). Everything here is protected
(config `protect`, default true): the API refuses to delete the overflow route while an environment's route uses
it, but it would delete the template with every environment's rules, and the corporate domain and policy from
under the environments' mailboxes. Destroy the environments first; then `pulumi config set protect false`,
`pulumi up` and `pulumi destroy` here.
"""

import pulumi

from pulumi_mailinfra import cleanmail, greenarrow

config = pulumi.Config()
protected = pulumi.ResourceOptions(protect=config.get_bool("protect") is not False)

template = greenarrow.ThrottlingTemplate(
    "corp-throttling",
    default={"max_concurrent_connections": 10, "max_messages_per_hour": 0},
    opts=protected,
)
gmail = greenarrow.ThrottlingRule(
    "gmail",
    template_id=template.id,
    domains=["gmail.com", "[*.]googlemail.com"],
    max_concurrent_connections=20,
    max_messages_per_hour=36000,
    throttle_program={"name": "Automatic Backoff"},
    opts=protected,
)
overflow = greenarrow.Route(
    "corp-overflow",
    requested_target_daily_volume=config.get_int("overflowDailyVolume") or 25000,
    opts=protected,
)

corp = cleanmail.Domain(
    "corp",
    name=config.get("corpDomain") or "corp.promotion.example",
    description="Company-wide mail policy (managed by the mailinfra-shared stack)",
    default_language="EN",
    quarantine=True,
    retention=True,
    archive=False,
    opts=protected,
)
compliance = cleanmail.DomainPolicy(
    "compliance",
    domain_id=corp.id,
    name="compliance",
    quarantine=True,
    retention=True,
    incoming=True,
    outgoing=True,
    spam_score=5.0,
    quarantine_props={"duration": 30, "store_virus": True},
    retention_props={"duration": 365, "store_mail_out": True},
    opts=protected,
)

pulumi.export("template_id", template.id)
pulumi.export("template_name", template.name)
pulumi.export("gmail_rule_id", gmail.id)
pulumi.export("overflow_route_id", overflow.id)
pulumi.export("overflow_route_name", overflow.name)
pulumi.export("corp_domain_id", corp.id)
pulumi.export("corp_domain_name", corp.name)
pulumi.export("compliance_policy_id", compliance.id)
