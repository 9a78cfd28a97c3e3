"""Outputs that mirror another resource's fields are right after the `up` that changed them (issue 22, item 2):
a DKIM record's name follows its domain's rename in the same `up`, when the program passes the domain's name."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pytest

from pulumi_mailinfra import cleanmail
from tests.conftest import Emulator, StackFactory

pytestmark = pytest.mark.e2e


def signed(name: str) -> Callable[[], None]:
    def program() -> None:
        domain = cleanmail.Domain("mail", name=name, default_language="EN", quarantine=True, retention=False,
                                  archive=False)
        dkim = cleanmail.DomainDkim("dkim", domain_id=domain.id, domain_name=domain.name, selector="mail")
        pulumi.export("domain_id", domain.id)
        pulumi.export("record", dkim.dns_record_name)
        pulumi.export("value", dkim.txt_value)

    return program


def test_dkim_record_follows_a_domain_rename_in_the_same_up(make_stack: StackFactory, emulator: Emulator) -> None:
    stack = make_stack(signed("before.example"))
    first = stack.up().outputs
    assert first["record"].value == "mail._domainkey.before.example"
    stack.workspace.program = signed("after.example")
    up = stack.up()
    assert up.summary.resource_changes == {"update": 2, "same": 1}
    assert up.outputs["domain_id"].value == first["domain_id"].value  # renamed in place, same domain
    # What a DNS resource fed from these outputs would publish, right after the up: the API's record.
    answered = emulator.cleanmail().get(f"/domains/{first['domain_id'].value}/dkim")
    assert up.outputs["record"].value == "mail._domainkey.after.example"
    assert up.outputs["value"].value == first["value"].value  # the key pair is the same
    assert any(line.startswith("mail._domainkey.after.example ") for line in answered)
    assert stack.refresh().summary.resource_changes == {"same": 3}
    stack.preview(expect_no_changes=True)

