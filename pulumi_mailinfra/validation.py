"""Reusable pydantic field types and the bridge from pydantic errors to Pulumi check failures."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

# The error type of checks written against known values only (e.g. a domain listed twice): reported even
# while other values are still unknown at preview, where other model-level errors wait for apply.
KNOWN_VALUES_ERROR = "known_values_conflict"


def known_values_error(message: str) -> PydanticCustomError:
    return PydanticCustomError(KNOWN_VALUES_ERROR, message)


@dataclass(frozen=True)
class Rule:
    """A validation rule in words, for the generated reference docs and input docstrings. Attach it to the
    `Annotated` type whose BeforeValidator enforces it (pydantic ignores metadata it does not know)."""

    text: str


def _whole_int(value: Any) -> Any:
    # Pulumi sends every number as a float; accept 25.0 as 25 but never bools or strings.
    if isinstance(value, (bool, str)):
        raise ValueError("must be an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be an integer")
        return int(value)
    return value


Int = Annotated[int, BeforeValidator(_whole_int)]
NonNegativeInt = Annotated[int, BeforeValidator(_whole_int), Field(ge=0)]
PositiveInt = Annotated[int, BeforeValidator(_whole_int), Field(ge=1)]
Port = Annotated[int, BeforeValidator(_whole_int), Field(ge=1, le=65535)]


def _ipv4(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise ValueError("must be a valid IPv4 address in dotted-decimal notation") from None
    return value


IPv4 = Annotated[str, BeforeValidator(_ipv4), Rule("a valid IPv4 address in dotted-decimal notation")]

_ALNUM_EDGES = re.compile(r"^[A-Za-z0-9](.*[A-Za-z0-9])?$", re.S)


def _hostname(value: Any) -> Any:
    if isinstance(value, str) and value and not _ALNUM_EDGES.fullmatch(value):
        raise ValueError("must start and end with a letter or number")
    return value


Hostname = Annotated[
    str,
    BeforeValidator(_hostname),
    Field(min_length=1, max_length=200),
    Rule("starts and ends with a letter or number"),
]


def _printable_name(value: Any) -> Any:
    """GreenArrow names: ASCII 0x20-0x7e minus `,#@`, no outer whitespace, not an integer."""
    if not isinstance(value, str):
        return value
    bad = sorted({c for c in value if not (0x20 <= ord(c) <= 0x7E) or c in ",#@"})
    if bad:
        raise ValueError(f"must contain only ASCII 0x20-0x7e excluding comma, pound and at-sign; got {bad!r}")
    if value != value.strip():
        raise ValueError("must not have leading nor trailing whitespace")
    if re.fullmatch(r"[+-]?\d+", value):
        raise ValueError("must not be an integer")
    return value


VirtualMtaName = Annotated[
    str,
    BeforeValidator(_printable_name),
    Field(min_length=1, max_length=200),
    Rule("ASCII 0x20-0x7e except comma, pound and at-sign; no leading or trailing whitespace; not an integer; "
         "unique case-insensitively across all VirtualMTAs (IP addresses, relay servers, routing rules)"),
]


_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _email(value: Any) -> Any:
    if isinstance(value, str):
        if len(value) > 254 or not _EMAIL.fullmatch(value):
            raise ValueError(f"{value!r} is not an email address")
        return value.lower()
    return value


EmailAddress = Annotated[str, BeforeValidator(_email), Rule("an email address (stored lowercase)")]


class LazyModel(BaseModel):
    """A model whose validator is built the first time it validates, not when it is imported: a program imports
    every model and validates none (the provider does), and a provider validates only the types it is asked
    about. Building them all at import cost ~0.3 s per process."""

    model_config = ConfigDict(defer_build=True)


class StrictModel(LazyModel):
    """Unknown keys are typos: reject them instead of silently sending nothing.

    `omit_unset` chooses what an optional field left out means, for the whole resource: False (GreenArrow)
    "null on the server" (compared: a value set out of band is drift), True (Cleanmail) "the server's
    default" (not sent, not compared)."""

    # Errors name the Python field (`default_language`), never the API's alias (`defaultLanguage`).
    model_config = ConfigDict(extra="forbid", populate_by_name=True, loc_by_alias=False, defer_build=True)
    omit_unset: ClassVar[bool] = False


def failures(model: type[BaseModel], values: Mapping[str, Any], is_unknown: Any) -> list[tuple[str, str]]:
    """Validate `values`; return (dotted property, reason) pairs, ignoring errors at or under values
    that are still unknown during preview (they are checked again once known)."""
    return validate(model, values, is_unknown)[1]


def validate(
    model: type[BaseModel], values: Mapping[str, Any], is_unknown: Any
) -> tuple[BaseModel | None, list[tuple[str, str]]]:
    """`failures`, with the validated model when `values` are valid (validated once, not twice)."""
    try:
        return model.model_validate(dict(values)), []
    except PydanticValidationError as exc:
        found: list[tuple[str, str]] = []
        for error in exc.errors():
            loc = [p for p in error["loc"] if not (isinstance(p, str) and "[" in p)]
            if error["type"] != KNOWN_VALUES_ERROR and _touches_unknown(values, loc, is_unknown):
                continue
            path = _dotted(loc)
            message = error["msg"].removeprefix("Value error, ")
            found.append((path, message))
        return None, found


def _touches_unknown(values: Any, loc: list[Any], is_unknown: Any) -> bool:
    node = values
    if is_unknown(node):
        return True
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            # A model-level error (no deeper value): unknown anywhere below means "not yet".
            return _contains_unknown(node, is_unknown)
        if is_unknown(node):
            return True
    return _contains_unknown(node, is_unknown) if isinstance(node, (dict, list)) and not loc else False


def _contains_unknown(node: Any, is_unknown: Any) -> bool:
    if is_unknown(node):
        return True
    if isinstance(node, Mapping):
        return any(_contains_unknown(v, is_unknown) for v in node.values())
    if isinstance(node, (list, tuple)):
        return any(_contains_unknown(v, is_unknown) for v in node)
    return False


def _dotted(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).isidentifier():  # a key no field has (`{"": 1}`): quoted, so the path stays readable
            out += f"[{json.dumps(str(part), ensure_ascii=False)}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(resource)"
