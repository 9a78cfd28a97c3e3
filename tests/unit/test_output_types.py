"""Our resource classes' output types are worked out once per class (the SDK would at every registration),
and still applied to every resource's outputs; other classes keep the SDK's own handling."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pulumi
import pytest
from pulumi import _types as pulumi_types

from pulumi_mailinfra import greenarrow
from pulumi_mailinfra import resource as mailinfra_resource


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ.endswith("ThrottlingTemplate"):
            outputs["rule_ids"] = [101, 102]  # numbers cross the wire as doubles; the type makes them ints again
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class Plain(pulumi.CustomResource):
    size: pulumi.Output[int]

    def __init__(self, name: str) -> None:
        super().__init__("test:index:Plain", name, {"size": 3})


@pytest.fixture
def worked_out(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often the SDK evaluated a class's annotations, by class name, from a clean cache."""
    pulumi.runtime.set_mocks(_Mocks(), project="types", stack="unit", preview=False)
    monkeypatch.setattr(mailinfra_resource, "_output_types", {})
    counts: Counter[str] = Counter()
    sdk_types_from_annotations = pulumi_types._types_from_annotations

    def counting(cls: type) -> dict[str, type]:
        counts[cls.__name__] += 1
        return sdk_types_from_annotations(cls)

    monkeypatch.setattr(pulumi_types, "_types_from_annotations", counting)
    return counts


@pulumi.runtime.test
def test_output_types_are_worked_out_once_per_class_and_applied_to_every_resource(worked_out: Counter[str]) -> None:
    default = {"max_concurrent_connections": 1, "max_messages_per_hour": 0}
    templates = [greenarrow.ThrottlingTemplate(f"t{i}", name=f"t{i}", default=default) for i in range(3)]
    relays = [greenarrow.RelayServer(f"r{i}", name=f"r{i}", source_ip={"ip": "192.0.2.1", "hostname": "a.example"},
                                     destination={"hostname": "b.example", "port": 25}) for i in range(2)]
    plains = [Plain(f"p{i}") for i in range(2)]

    def check(values: list[Any]) -> None:
        rule_ids, names, sizes = values[:3], values[3:5], values[5:]
        for ids in rule_ids:
            assert ids == [101, 102] and all(type(i) is int for i in ids)
        assert names == ["r0", "r1"]
        assert sizes == [3, 3] and all(type(size) is int for size in sizes)
        assert worked_out["ThrottlingTemplate"] == 1
        assert worked_out["RelayServer"] == 1
        assert worked_out["Plain"] == 2  # a class of someone else's: the SDK's own function, every time

    return pulumi.Output.all(*(t.rule_ids for t in templates),
                             *(r.name for r in relays),
                             *(p.size for p in plains)).apply(check)
