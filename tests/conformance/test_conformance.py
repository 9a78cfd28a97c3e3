"""One conformance suite, under the real CLI, for every resource type with a sample in `samples.py`: one stack holds
them all, and each check runs on every type at once (failures name the type and field):

create; a preview with no change and 0 API requests; a clean refresh; each round of out-of-band changes made through
the API reported by refresh (per resource) and reverted by the next `up`; objects deleted through the API dropped by
refresh and recreated by `up`; set-like lists reordered give no change; in-place updates update, replace fields
replace; `up --replace`; and destroy leaves nothing on the server."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_mailinfra import cleanmail, elemta, errors, greenarrow
from pulumi_mailinfra.provider import CrudProvider
from pulumi_mailinfra.reconcile import canonical
from tests.conformance.samples import SAMPLES, Ref, Sample
from tests.conftest import Emulator, StackFactory
from tests.provider.harness import configured, wire

pytestmark = pytest.mark.e2e
MODULES = {"greenarrow": greenarrow, "cleanmail": cleanmail, "elemta": elemta}
BY_NAME = {sample.name: sample for sample in SAMPLES}
State = Mapping[str, Mapping[str, Any]]  # each deployed sample's outputs and id, by sample name
REPLACING = {"replace", "create-replacement", "delete-replaced"}
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def resolve(value: Any, lookup: Callable[[Ref], Any]) -> Any:
    if isinstance(value, Ref):
        return lookup(value)
    if isinstance(value, Mapping):
        return {k: resolve(v, lookup) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, lookup) for v in value]
    return value


def plain(value: Any) -> Any:
    """State as `stack export --show-secrets` gives it, with each secret's plaintext in place of its envelope."""
    if isinstance(value, Mapping):
        if SECRET_SIG in value:
            return json.loads(value["plaintext"])
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def program(inputs: Callable[[Sample], dict[str, Any]]) -> Callable[[], None]:
    def run() -> None:
        made: dict[str, Any] = {}
        for sample in SAMPLES:  # in dependency order
            props = resolve(inputs(sample), lambda ref: getattr(made[ref.sample], ref.output))
            made[sample.name] = getattr(MODULES[sample.service], sample.type_name)(sample.name, **props)
            pulumi.export(sample.name, made[sample.name].id)

    return run


def set_at(values: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted path (`rules[0].throttle_program.name`), making the dicts on the way. Naming a
    reference by `name` drops its `id` (the id would win)."""
    parts = re.findall(r"[^.\[\]]+", path)
    node: Any = values
    for part in parts[:-1]:
        key: Any = int(part) if part.isdigit() else part
        if isinstance(node, dict) and node.get(key) is None:
            node[key] = {}
        node = node[key]
    if parts[-1] == "name" and isinstance(node, dict):
        node.pop("id", None)
    node[parts[-1]] = value


class Conformance:
    """The stack of every sample, with what the checks need: ids, per-resource operations, the emulator."""

    def __init__(self, stack: Any, emulator: Emulator) -> None:
        self.stack, self.emulator = stack, emulator
        self.providers: dict[type[CrudProvider], CrudProvider] = {}

    def provider(self, sample: Sample) -> CrudProvider:
        if sample.provider not in self.providers:
            self.providers[sample.provider] = configured(sample.provider, self.emulator)
        return self.providers[sample.provider]

    def ids(self) -> dict[str, dict[str, Any]]:
        """Each deployed sample's outputs (secrets in clear) and `id`, by sample name."""
        return {r["urn"].rsplit("::", 1)[1]: {**plain(r.get("outputs", {})), "id": r["id"]}
                for r in self.stack.export_stack().deployment["resources"]
                if r.get("custom") and r["type"].startswith("pulumi-python:dynamic")}

    def up(self, **kwargs: Any) -> dict[str, str]:
        """`pulumi up`, then the outputs it recorded must be what the API answers now: an output mirroring
        another object's field (a DKIM record's domain name) is right after the `up` that changed that field."""
        ops = self.operations(self.stack.up, **kwargs)
        stale = {}
        for name, recorded in self.ids().items():
            sample = BY_NAME[name]
            if not sample.on_server:
                continue
            provider = self.provider(sample)
            outs = {k: v for k, v in recorded.items() if k != "id"}
            current = wire(provider.read(recorded["id"], copy.deepcopy(outs)).outs)
            differing = sorted(k for k in set(current) | set(outs) if k not in sample.volatile and k != "__provider"
                               and canonical(current.get(k)) != canonical(wire(outs).get(k)))
            if differing:
                stale[name] = {k: (wire(outs).get(k), current.get(k)) for k in differing}
        assert not stale, "outputs not what the API answers right after the up: " + "; ".join(
            f"{name}.{key}: recorded {old!r}, answered {new!r}"
            for name, keys in stale.items() for key, (old, new) in keys.items())
        return ops

    def inputs(self, sample: Sample, ids: State, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The sample's inputs as `check` records them, references resolved to the deployed ids."""
        provider = self.provider(sample)
        raw = resolve({**sample.inputs, **(extra or {})}, lambda ref: ids[ref.sample][ref.output])
        checked = provider.check({}, copy.deepcopy(raw))
        assert not checked.failures, (sample.name, checked.failures)
        return provider.declared(checked.inputs)

    def change_out_of_band(self, sample: Sample, ids: State, changes: Mapping[str, Any]) -> None:
        provider = self.provider(sample)
        inputs = self.inputs(sample, ids)
        for path, value in changes.items():
            set_at(inputs, path, resolve(value, lambda ref: ids[ref.sample][ref.output]))
        # The recorded outputs as `olds`, as an update gets them (ids of the parts, such as a list's rule ids).
        provider.send_update(provider.client(), ids[sample.name]["id"], ids[sample.name], inputs,
                             provider.validated(inputs))

    def left(self, sample: Sample, id_: str, inputs: Mapping[str, Any]) -> bool:
        """Whether anything of the sample is still on the server: the object, or a whole value's items."""
        provider = self.provider(sample)
        if not sample.whole_value:
            return provider.exists(provider.client(), id_, inputs)
        try:
            record = provider.fetch(provider.client(), id_, inputs)
        except errors.NotFoundError:
            return False  # its owner is gone
        return any(record.get(key) for key in provider.spec.input_keys if isinstance(record.get(key), list))

    def operations(self, run: Callable[..., Any], **kwargs: Any) -> dict[str, str]:
        """Each resource's operation in a CLI run (`same`, `update`, `delete`, `create`, `replace`...)."""
        events: list[Any] = []
        run(on_event=events.append, **kwargs)
        seen: dict[str, set[str]] = {}
        for event in events:
            outputs = event.res_outputs_event
            name = outputs.metadata.urn.rsplit("::", 1)[1] if outputs else None
            if outputs and name in BY_NAME:
                seen.setdefault(name, set()).add(str(outputs.metadata.op.value).lower())
        return {name: "replace" if ops & REPLACING else "/".join(sorted(ops)) for name, ops in seen.items()}

    def quiet_preview(self) -> None:
        """No change, and not one API request."""
        self.emulator.reset_stats()
        self.stack.preview(expect_no_changes=True)
        assert self.emulator.requests() == 0


@pytest.fixture
def conformance(make_stack: StackFactory, emulator: Emulator) -> Iterator[Conformance]:
    stack = make_stack(program(lambda sample: sample.inputs))
    yield Conformance(stack, emulator)


def test_every_type_conforms(conformance: Conformance) -> None:
    check = conformance
    created = check.up()
    assert created == {s.name: "create" for s in SAMPLES}
    check.quiet_preview()
    assert set(check.operations(check.stack.refresh).values()) == {"same"}
    ids = check.ids()

    # Out-of-band changes, round by round: refresh reports exactly the changed resources, `up` reverts them.
    rounds = max(len(s.drift) for s in SAMPLES)
    for index in range(rounds):
        changed = [s for s in SAMPLES if index < len(s.drift)]
        for sample in changed:
            check.change_out_of_band(sample, ids, sample.drift[index])
        refreshed = check.operations(check.stack.refresh)
        expected = {s.name: "update" if s in changed else "same" for s in SAMPLES}
        assert refreshed == expected, f"round {index}: {[(s.name, s.drift[index]) for s in changed]}"
        check.up()
        assert set(check.operations(check.stack.refresh).values()) == {"same"}, f"round {index} not reverted"
        check.quiet_preview()

    # Deleted through the API: refresh drops them, `up` recreates them.
    gone = [s for s in SAMPLES if s.deletable]
    for sample in gone:
        provider = check.provider(sample)
        provider.delete(ids[sample.name]["id"], {**ids[sample.name], **check.inputs(sample, ids)})
    refreshed = check.operations(check.stack.refresh)
    assert refreshed == {s.name: ("update" if s.whole_value else "delete") if s in gone else "same" for s in SAMPLES}
    recreated = check.up()
    assert {name for name, op in recreated.items() if op == "create"} == {s.name for s in gone if not s.whole_value}
    assert {name for name, op in recreated.items() if op == "update"} == {s.name for s in gone if s.whole_value}
    check.quiet_preview()
    ids = check.ids()

    # Set-like lists in another order: no change.
    check.stack.workspace.program = program(lambda sample: {**sample.inputs, **sample.reorder})
    check.quiet_preview()

    # Set-like lists with an item twice or in two cases: refused at preview, naming the field, or no change.
    for sample in (s for s in SAMPLES if s.repeats):
        check.stack.workspace.program = program(
            lambda other, sample=sample: {**other.inputs, **(sample.repeats if other is sample else {})})
        check.emulator.reset_stats()
        try:
            check.stack.preview(expect_no_changes=True)
        except auto.CommandError as refused:
            fields = "|".join(re.escape(key) for key in sample.repeats)
            assert re.search(rf"{sample.name}.*(has a problem|error).*({fields})", str(refused)), (sample.name,
                                                                                                  str(refused))
            assert "more than once" in str(refused), (sample.name, str(refused))
        assert check.emulator.requests() == 0, sample.name

    # In-place updates update; replace fields replace.
    check.stack.workspace.program = program(lambda sample: {**sample.inputs, **sample.update})
    updated = check.up()
    assert updated == {s.name: "update" if s.update else "same" for s in SAMPLES}
    check.quiet_preview()
    check.stack.workspace.program = program(lambda sample: {**sample.inputs, **sample.update, **sample.replace})
    replaced = check.up()
    assert {n for n, op in replaced.items() if op != "same"} == {s.name for s in SAMPLES if s.replace}
    assert all(replaced[s.name] == "replace" for s in SAMPLES if s.replace)
    check.quiet_preview()

    # `up --replace` of each leaf.
    leaves = [s for s in SAMPLES if not _refs_to(s)]
    urns = [r["urn"] for r in check.stack.export_stack().deployment["resources"]
            if r["urn"].rsplit("::", 1)[1] in {s.name for s in leaves}]
    forced = check.up(replace=urns)
    assert {n for n, op in forced.items() if op != "same"} == {s.name for s in leaves}
    check.quiet_preview()

    # Destroy leaves nothing on the server.
    ids = check.ids()
    last = {s.name: check.inputs(s, ids, {**s.update, **s.replace}) for s in SAMPLES}
    check.stack.destroy()
    left = [s.name for s in SAMPLES if s.on_server and not s.kept and check.left(s, ids[s.name]["id"], last[s.name])]
    assert left == []


def _providers(module: Any) -> list[type[CrudProvider]]:
    names = [name for name in module.__all__ if name.endswith("Provider")]
    return [cls for cls in (getattr(module, name) for name in names) if getattr(cls, "spec", None) is not None]


def _refs_to(sample: Sample) -> list[str]:
    """The samples that refer to `sample` (so it is no leaf)."""
    def refers(other: Sample) -> bool:
        named: list[str] = []
        resolve({**other.inputs, **other.replace}, lambda ref: named.append(ref.sample))
        return sample.name in named

    return [other.name for other in SAMPLES if refers(other)]


def test_every_resource_type_has_a_sample_covering_every_input() -> None:
    from tests.conformance.samples import PENDING, bare, leaf_paths

    providers = {cls for module in MODULES.values() for cls in _providers(module)}
    sampled = {sample.provider for sample in SAMPLES}
    assert sorted(p.spec.type_name for p in providers - sampled - PENDING) == []
    assert sampled & PENDING == set()
    missing = []
    for sample in SAMPLES:
        covered = {bare(path) for changes in sample.drift for path in changes} | set(sample.unseen)
        missing += [f"{sample.name} ({sample.type_name}): {path}"
                    for path in leaf_paths(sample.provider.spec.model) if path not in covered]
    assert missing == []

