"""Program-side base of every mailinfra resource: autonaming, secret wrapping, output attributes."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.dynamic

from .provider import ADOPT_KEY, CrudProvider


def autoname(resource_name: str, *, max_length: int = 200) -> str:
    """`<logical name>-<7 hex>`: the suffix is stable for a stack (so preview shows the name `up` will
    use, and later runs keep it) yet differs between stacks sharing one server (dev and prod)."""
    seed = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}/{resource_name}"
    suffix = hashlib.sha256(seed.encode()).hexdigest()[:7]
    return f"{resource_name[: max_length - 8]}-{suffix}"


def _mark_secret(props: dict[str, Any], path: str) -> None:
    """Wrap the value at a dotted path in Output.secret. The engine copies secretness from inputs to
    the outputs of the same path, so the value is encrypted in state and masked in previews even
    when the user passed a plain string."""
    head, _, rest = path.partition(".")
    value = props.get(head)
    if value is None:
        return
    if not rest:
        props[head] = pulumi.Output.secret(value)
    elif isinstance(value, Mapping):
        inner = dict(value)
        _mark_secret(inner, rest)
        props[head] = inner
    else:  # an Output or other input whose shape is not known yet: hide all of it
        props[head] = pulumi.Output.secret(value)


class MailinfraResource(pulumi.dynamic.Resource):
    """Registers `props` with the provider; every computed output becomes an attribute."""

    def __init__(
        self,
        provider: CrudProvider,
        resource_name: str,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        adopt_existing: bool = False,
        autoname_max_length: int | None = 200,
    ) -> None:
        spec = provider.spec
        props = dict(props)
        if autoname_max_length and spec.name_field and props.get(spec.name_field) is None:
            props[spec.name_field] = autoname(resource_name, max_length=autoname_max_length)
        for path in spec.secret_paths:
            _mark_secret(props, path)
        if adopt_existing:
            props[ADOPT_KEY] = True
        for key in spec.computed:
            props.setdefault(key, None)
        super().__init__(provider, resource_name, props, opts)
