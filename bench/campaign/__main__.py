"""Every resource type of the three services, wired by their dependencies: the stack the crash campaign kills
and the scaling benchmark grows. `revision: 2` changes every resource (an in-place update for most, a
replacement for some: a rename, a new DKIM selector, a moved alias, a renamed token). `units: K` repeats the
Cleanmail domain bundle and the relay pair K times (the templates, routes and bulk rules stay single)."""

import pulumi

from pulumi_mailinfra import cleanmail, elemta, greenarrow

config = pulumi.Config()
rev = config.get_int("revision") or 1
units = config.get_int("units") or 1
second = rev >= 2


def secret(key: str, fallback: str) -> pulumi.Output[str]:
    """A password from the stack's secret config (`pulumi config set --secret`: the CLI then masks it in its own
    logs, even at -v=9), else a fixed one for the benchmarks."""
    return config.get_secret(key) or pulumi.Output.secret(fallback)


template = greenarrow.ThrottlingTemplate(
    "standard-throttling",
    default={"max_concurrent_connections": 10, "max_messages_per_hour": 0},
    rules=[
        {"domains": ["gmail.com", "[*.]googlemail.com"], "max_concurrent_connections": 20,
         "max_messages_per_hour": 36000 if not second else 30000, "throttle_program": {"name": "Automatic Backoff"}},
        {"domains": ["*.yahoo.com"], "max_concurrent_connections": 5, "max_messages_per_hour": 0},
    ],
)
partner = greenarrow.ThrottlingTemplate(
    "partner-throttling", default={"max_concurrent_connections": 4 if not second else 6, "max_messages_per_hour": 1000})
greenarrow.ThrottlingRule("outlook-rule", template_id=partner.id, domains=["outlook.com", "hotmail.com"],
                          max_concurrent_connections=8 if not second else 9, max_messages_per_hour=12000)
overflow = greenarrow.Route("overflow-route", requested_target_daily_volume=25000 if not second else 30000)
main_route = greenarrow.Route("main-route", requested_target_daily_volume=100000, overflow_route={"id": overflow.id})

relays, domains = [], []
for u in range(units):
    fallback = greenarrow.RelayServer(
        f"fallback-relay-{u}",
        name=f"fallback-{u}" if not second else f"fallback-{u}-b",  # revision 2 renames it: a replacement
        source_ip={"ip": f"192.0.{2 + u // 250}.{20 + u % 200}", "hostname": f"fallback{u}.mail.example.com"},
        destination={"hostname": "smtp-fallback.example.net", "port": 587, "username": "relay"},
        throttle_limits={"max_concurrent_connections": 2, "max_messages_per_hour": 600},
    )
    primary = greenarrow.RelayServer(
        f"primary-relay-{u}",
        source_ip={"ip": f"198.51.{100 + u // 250}.{10 + u % 200}", "hostname": f"mail{u}.example.com"},
        destination={"hostname": "smtp.example.net", "port": 587 if not second else 2525, "username": "relay",
                     "password": secret("relayPassword", "relay-pw-Campaign1")},
        throttle_limits={"max_concurrent_connections": 10, "max_messages_per_hour": 5000},
        redirect={"id": fallback.id},
    )
    relays.append(primary)

    name = f"unit{u}.campaign.example"
    domain = cleanmail.Domain(f"domain-{u}", name=name, default_language="EN", quarantine=True, retention=True,
                              archive=second, outgoing_subnets=[f"10.{u // 250}.{u % 250}.0/24"])
    domains.append(domain)
    cleanmail.DomainDefaultPolicy(f"default-policy-{u}", domain_id=domain.id, spam_score=6.0 if not second else 5.5)
    executives = cleanmail.DomainPolicy(f"executives-{u}", domain_id=domain.id, name="executives", quarantine=True,
                                        retention=True, incoming=True, spam_score=4.0 if not second else 3.5)
    cleanmail.DomainDkim(f"dkim-{u}", domain_id=domain.id, selector="protect" if not second else "protect2")
    cleanmail.DomainAliases(f"aliases-{u}", domain_id=domain.id,
                            names=[f"alias.{name}"] + ([f"alias2.{name}"] if second else []))
    ceo = cleanmail.User(f"ceo-{u}", domain_id=domain.id, email=f"ceo@{name}", firstname="Casey" if not second
                         else "Casey-Jo", password=secret("ceoPassword", "ceo-pw-Campaign1"), policy_id=executives.id)
    ops = cleanmail.User(f"ops-{u}", domain_id=domain.id, email=f"ops@{name}",
                         password=secret("opsPassword", "ops-pw-Campaign1"))
    cleanmail.UserSignature(f"ceo-signature-{u}", user_id=ceo.id, html="Casey<br/>CEO" if not second else "Casey")
    cleanmail.UserOption(f"ops-reports-{u}", user_id=ops.id, name="REPORT_FREQUENCY",
                         value="WEEKLY" if not second else "DAILY")
    cleanmail.EmailAlias(f"postmaster-{u}", domain_id=domain.id, email=f"postmaster@{name}",
                         recipients=[ceo.email] + ([ops.email] if second else []))
    cleanmail.DomainOption(f"domain-admin-option-{u}", domain_id=domain.id, name="DOMAIN_ADMIN",
                           value=f"postmaster@{name}" if not second else f"ops@{name}")
    cleanmail.AttachmentFilter(f"no-macro-sheets-{u}", domain_id=domain.id, action="DENY", check_type="FILENAME",
                               filter="[.]xlsm$", description="macro sheets" if not second else "macro-enabled sheets")
    cleanmail.UriBlFilter(f"bad-links-{u}", domain_id=domain.id, action="BLACKLIST_URI_HOST", filter="bulist.com",
                          description="phishing" if not second else "phishing landing pages")
    cleanmail.DomainSenderRule(f"block-spammer-{u}", domain_id=domain.id, value="spam.example", type="BLOCK",
                               description="complaint 4711" if not second else "complaint 4712")
    cleanmail.MailboxSenderRules(f"ops-senders-{u}", user_id=ops.id, rules=[
        {"value": "family.example", "type": "ALLOW", "spf_on": second}])
    cleanmail.DomainUsersAccess(f"users-access-{u}", domain_id=domain.id,
                                permissions=["QUARANTINE_READ"] + (["QUARANTINE_RELEASE"] if second else []))
    security = cleanmail.DomainAdmin(
        f"security-team-{u}", domain_id=domain.id, login=f"security-{u}", display_name="Security team",
        email=f"security@{name}", password=secret("securityPassword", "sec-pw-Campaign1"),
        permissions=["DOMAIN_READ"] + (["FILTERS_WRITE"] if second else []))
    cleanmail.AdminToken(f"security-ci-{u}", admin_id=security.id, name="ci" if not second else "ci-2")
    alias_domain = cleanmail.Domain(f"partner-domain-{u}", name=f"partner{u}.campaign.example", default_language="EN",
                                    quarantine=False, retention=False, archive=False)
    cleanmail.DomainAlias(f"partner-alias-{u}", domain_id=alias_domain.id,
                          name=f"p{u}.campaign.example" if not second else f"p{u}b.campaign.example")

cleanmail.SenderRules("security-blocks", rules=[
    {"owner": "unit0.campaign.example", "value": "phish.example", "type": "BLOCK",
     "description": "campaign 2026-11" if not second else "campaign 2026-12"}],
    opts=pulumi.ResourceOptions(depends_on=[domains[0]]))  # the owner is named, not referenced
elemta.DeliveryCheck("mail-path-check", sender="postmaster@unit0.campaign.example",
                     recipient="ops@unit0.campaign.example", triggers=[str(rev), main_route.id, relays[0].id],
                     timeout_seconds=60, poll_interval_seconds=0.1)
pulumi.export("revision", rev)
