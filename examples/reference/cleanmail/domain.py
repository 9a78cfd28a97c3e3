"""A domain relaying to an Exchange Online platform, its users authenticating against Entra ID."""

import pulumi

from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain(
    "example",
    name="example.com",
    default_language="EN",
    quarantine=True,
    retention=True,
    archive=False,
    outgoing_subnets=["192.0.2.0/28"],
    platforms=[
        {
            "name": "exchange-online",
            "transport_dest": "example-com.mail.protection.outlook.com",
            "transport_type": "SMTPS_MAY",
            "transport_port": 25,
            "auth_type": "entra",
            "auth_data": {"tenant_id": "00000000-0000-0000-0000-000000000000"},
            "api_type": "O365",
            "api_data": {
                "client_id": "11111111-1111-1111-1111-111111111111",
                "tenant_id": "00000000-0000-0000-0000-000000000000",
                "client_secret": pulumi.Config().require_secret("graphClientSecret"),
            },
            "default": True,
        }
    ],
)
pulumi.export("default_policy_id", domain.default_policy_id)
