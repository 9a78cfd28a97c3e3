"""Pure functions behind `diff` and `read`: compare desired inputs with what the API reports."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN


def is_unknown(value: Any) -> bool:
    """True for a value not known until apply (what check/diff see during preview): the SDK hands the
    provider `Unknown` objects, the raw wire form is a sentinel string; accept both."""
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)


def to_wire(value: Any) -> Any:
    """Turn `Unknown` objects back into the sentinel the SDK serialises as "unknown" (check's inputs)."""
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    return value


def contains_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_unknown(v) for v in value)
    return False


def canonical(value: Any, *, keep_nulls: bool = False) -> Any:
    """Normalise what the wire changes: Pulumi numbers arrive as floats, tuples as lists. For comparison a
    nested key holding null means the same as an absent one (state written before `check` filled defaults
    has none); `keep_nulls` keeps them where they carry meaning (desired values to reconcile against)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: canonical(v, keep_nulls=keep_nulls) for k, v in value.items()
                if not k.startswith("__") and (keep_nulls or v is not None)}
    if isinstance(value, (list, tuple)):
        return [canonical(v, keep_nulls=keep_nulls) for v in value]
    return value


def _is_reference(desired: Any, actual: Any) -> bool:
    return (
        isinstance(desired, Mapping)
        and bool(desired)
        and set(desired) <= {"id", "name"}
        and isinstance(actual, Mapping)
        and ("id" in actual or "name" in actual)
    )


def reference_matches(desired: Mapping[str, Any], actual: Mapping[str, Any]) -> bool:
    """A reference by id matches that id; by name, the same name case-insensitively (id wins)."""
    if desired.get("id") is not None:
        return str(canonical(desired["id"])) == str(canonical(actual.get("id")))
    name = desired.get("name")
    return isinstance(name, str) and name.casefold() == str(actual.get("name", "")).casefold()


def reconcile(desired: Any, actual: Any) -> Any:
    """The API's state in the shape of `desired`: where the two agree semantically the user's own
    spelling is kept (so refresh reports no drift), where they differ the API's value wins (drift)."""
    if _is_reference(desired, actual):
        if reference_matches(desired, actual):
            return desired
        return {"id": actual.get("id"), "name": actual.get("name")}
    if isinstance(desired, Mapping) and isinstance(actual, Mapping):
        return {key: reconcile(value, actual[key]) if key in actual else value for key, value in desired.items()}
    if isinstance(desired, list) and isinstance(actual, list):
        paired = [reconcile(d, a) for d, a in zip(desired, actual, strict=False)]
        return paired + [canonical(a) for a in actual[len(desired):]]
    if canonical(desired) == canonical(actual):
        return desired
    return canonical(actual)


def changed_keys(
    olds: Mapping[str, Any], news: Mapping[str, Any], keys: list[str], unordered: tuple[str, ...] = ()
) -> list[str]:
    """Input keys whose new value differs from the recorded one; unknown values count as changed. Lists at the
    `unordered` paths (`domains`, `rules`, `rules[].domains`) are sets: another order is no change."""
    changed = []
    for key in keys:
        new = news.get(key)
        before, after = ({key: canonical(value)} for value in (olds.get(key), new))
        if contains_unknown(new) or as_sets(before, unordered) != as_sets(after, unordered):
            changed.append(key)
    return changed


def as_sets(values: dict[str, Any], unordered: tuple[str, ...]) -> dict[str, Any]:
    """`values` with each list at an `unordered` path sorted (deeper paths first, so a list of sets sorts by them)."""
    for path in sorted(unordered, key=lambda p: -p.count(".")):
        values = _sorted_at(values, path.split("."))
    return values


def _set_key(item: Any) -> str:
    return item.casefold() if isinstance(item, str) else json.dumps(item, sort_keys=True).casefold()


def _sorted_at(node: Any, parts: list[str]) -> Any:
    head, rest = parts[0], parts[1:]
    key = head.removesuffix("[]")
    if not isinstance(node, Mapping) or not isinstance(node.get(key), (list, Mapping)):
        return node
    value = node[key]
    if head.endswith("[]") and isinstance(value, list):
        value = [_sorted_at(item, rest) for item in value] if rest else value
    elif rest:
        value = _sorted_at(value, rest)
    elif isinstance(value, list):
        value = sorted(value, key=_set_key)
    return {**node, key: value}
