"""Program-side base of every mailinfra resource: autonaming, secret wrapping, output attributes."""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import itertools
import os
import pickle
import signal
import sys
import threading
import typing
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi import _types as pulumi_types
from pulumi.dynamic.dynamic import PROVIDER_KEY, serialize_provider

from . import program_wait
from .errors import DeclarationError
from .program_hash import running_program_hash
from .program_spec import (
    ADOPT_KEY,
    AUTONAME_KEY,
    OWNER_KEY,
    OWNER_KINDS,
    PARENTS_KEY,
    PROGRAM_KEY,
    ProgramSpec,
    form_conflict,
)

_SERIALIZED: dict[str, str] = {}
_SERIALIZE_LOCK = threading.Lock()


def serialized_provider(spec: ProgramSpec) -> str:
    """The pickled provider, once per type: a `ProviderRef` naming the provider class, so the string is the
    same for every resource of a type and pickling it imports nothing. Serialising once also sidesteps an SDK
    bug: each `serialize_provider` call wraps `pickle._Pickler._batch_setitems` again without restoring it, so
    a program with a few hundred dynamic resources dies with RecursionError (cf. pulumi/pulumi#17803)."""
    with _SERIALIZE_LOCK:
        if spec.provider not in _SERIALIZED:
            original = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
            try:
                _SERIALIZED[spec.provider] = serialize_provider(spec.provider_ref())  # type: ignore[arg-type]
            finally:
                pickle._Pickler._batch_setitems = original  # type: ignore[attr-defined]
        return _SERIALIZED[spec.provider]


def _lasting_parents(spec: ProgramSpec, props: Mapping[str, Any]) -> pulumi.Output[dict[str, str]] | None:
    """`{input: "<URN> <name>"}` for each replace-forcing input that is the id of one resource whose id outlives
    its own replacement under the same name (a `Domain`), awaited at registration; None when no such input is an
    Output. The value has no dependency on the parent, so it stays known where the engine makes the input itself
    unknown."""
    references: dict[str, pulumi.Output[Any]] = {
        key: value for key in spec.replace_on if isinstance(value := props.get(key), pulumi.Output)}
    if not references:
        return None

    async def sources() -> dict[str, str]:
        found: dict[str, str] = {}
        for key, value in references.items():
            resources = await value.resources()
            parent = next(iter(resources)) if len(resources) == 1 else None
            parent_spec = getattr(parent, "_mailinfra_spec", None)
            if parent is None or not isinstance(parent_spec, ProgramSpec) or not parent_spec.keeps_id_when_replaced:
                continue
            if value is not getattr(parent, "id", None):
                continue  # derived from the parent (`.apply`), not its id: its value may change with a replacement
            # The same resource under the same name: a replacement restores the same object (a new name makes a
            # new one, with a new id).
            name = await getattr(parent, parent_spec.name_field).future() if parent_spec.name_field else ""
            urn = await parent.urn.future()
            if urn and isinstance(name, str):
                found[key] = f"{urn} {name.casefold()}"
        return found

    return pulumi.Output.from_input(sources())  # an Output with no resources: no dependency on the parent


def autoname(resource_name: str) -> str:
    """The name a resource is given the first time, `<logical name>-<7 hex>`: the suffix is stable for a
    stack (so preview shows the name `up` uses) yet differs between stacks sharing one server (dev and
    prod). It is a candidate: the provider's `check` makes it a valid name for the type and, once chosen,
    keeps it (so `pulumi stack rename` renames nothing on the server)."""
    seed = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}/{resource_name}"
    return f"{resource_name}-{hashlib.sha256(seed.encode()).hexdigest()[:7]}"


# Identities declared in the running program (names, patterns, values: unique case-insensitively, per parent where
# the API scopes them), so two resources claiming one object (`name="legacy"` and `name="LEGACY"`) fail at once
# instead of fighting. Keyed by the run's monitor: an Automation API process runs several programs.
_DECLARED: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], tuple[str, str, tuple[Any, ...]]]] = \
    weakref.WeakKeyDictionary()
_DECLARED_LOCK = threading.Lock()


def _scope_of(spec: ProgramSpec, props: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The parents an identity is unique under: an Output by object (the same `domain.id`), an id by value;
    None when a parent is neither (then nothing is compared here; the API still refuses)."""
    scope: list[Any] = []
    for key in spec.scope:
        parent = props.get(key)
        if isinstance(parent, pulumi.Output):
            scope.append(parent)
        elif isinstance(parent, float) and parent.is_integer():
            scope.append(str(int(parent)))
        elif isinstance(parent, (str, int)):
            scope.append(str(parent))
        else:
            return None
    return tuple(scope)


def _claim_identity(spec: ProgramSpec, props: Mapping[str, Any], resource_name: str) -> None:
    if spec.identity is None:
        return
    shared = spec.name_namespace if spec.identity else None  # names shared across types have no parent
    scope = () if shared else _scope_of(spec, props)
    if scope is None:
        return
    values: list[list[str]] = []
    for key in spec.identity:
        value = props.get(key)
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(item, str) for item in items):
            return  # not known yet (an Output, an autoname): compared by the API
        values.append(items)
    for identity in itertools.product(*values):
        _claim(spec, resource_name, scope, dict(zip(spec.identity, identity, strict=True)), shared)
    for key in spec.namespace_lists:
        listed = props.get(key)
        for item in listed if isinstance(listed, list) else ():
            if isinstance(item, str):
                _claim(spec, resource_name, (), {"name": item}, spec.name_namespace)


def _claim(spec: ProgramSpec, resource_name: str, scope: tuple[Any, ...], identity: Mapping[str, str],
           namespace: str | None) -> None:
    from pulumi.runtime import settings

    run = settings.get_monitor() or settings.SETTINGS
    scope_key = tuple(("output", id(p)) if isinstance(p, pulumi.Output) else ("id", p) for p in scope)
    key = (namespace or spec.type_name, scope_key, tuple(v.casefold() for v in identity.values()))
    with _DECLARED_LOCK:
        declared = _DECLARED.setdefault(run, {})
        other_type, other, _ = declared.setdefault(key, (spec.type_name, resource_name, scope))  # keeps Outputs alive
    if (other_type, other) == (spec.type_name, resource_name):
        return
    what = " and ".join(f"the {k.replace('_', ' ')} {v!r}" for k, v in identity.items())
    if namespace is not None:
        value = next(iter(identity.values()))
        raise DeclarationError(f"{other_type} {other!r} and {spec.type_name} {resource_name!r} both declare {value!r}: "
                         f"{namespace} are unique case-insensitively across all of them, the API would refuse the "
                         "second; give one of them another name")
    parent = f" on one {OWNER_KINDS.get(spec.scope[0], spec.scope[0])}" if spec.scope else ""
    if not identity:
        raise DeclarationError(f"{spec.type_name} resources {other!r} and {resource_name!r} both manage the one "
                         f"{spec.type_name}{parent}: they would undo each other's changes; keep one")
    raise DeclarationError(f"{spec.type_name} resources {other!r} and {resource_name!r} both declare {what}{parent} "
                     "(unique case-insensitively): they would manage one object and undo each other's changes; give "
                     "one of them another value")


_FORM_CLAIMS: weakref.WeakKeyDictionary[Any, dict[tuple[str, str, int], tuple[str, Any]]] = weakref.WeakKeyDictionary()


def _claim_form(spec: ProgramSpec, props: dict[str, Any], resource_name: str) -> None:
    """A whole list and single items on one owner would undo each other (aliases, sender rules). The provider's
    `check` catches that once the owner's id is known; here the program catches it for an owner that is an Output
    (a domain or user made by the same program), whose id a preview does not know yet."""
    family, owner_key = spec.form_family, spec.form_owner
    owner = props.get(owner_key) if owner_key else None
    if family is None or spec.form_self or not isinstance(owner, pulumi.Output):
        return
    form = _form_of(family, str(owner_key), owner, spec.type_name)
    if form != spec.type_name:
        owner_name = f"{resource_name!r}'s {owner_key}"
        raise DeclarationError(form_conflict(spec.type_name, family, str(owner_key), owner_name, form))


def _form_of(family: str, owner_key: str, owner: pulumi.Output[Any], type_name: str) -> str:
    """The form that manages `owner`'s `family` in this run: the first claimed (`type_name` if none was)."""
    from pulumi.runtime import settings

    run = settings.get_monitor() or settings.SETTINGS
    with _DECLARED_LOCK:
        claims = _FORM_CLAIMS.setdefault(run, {})
        form, _ = claims.setdefault((family, owner_key, id(owner)), (type_name, owner))
    return form


def _mark_secret(props: dict[str, Any], path: str) -> None:
    """Wrap the value at a dotted path in Output.secret. The engine copies secretness from inputs to
    the outputs of the same path, so the value is encrypted in state and masked in previews even
    when the user passed a plain string."""
    head, _, rest = path.partition(".")
    key, each = head.removesuffix("[]"), head.endswith("[]")  # `platforms[].auth_data`: every item
    value = props.get(key)
    if value is None:
        return
    if not rest:
        props[key] = pulumi.Output.secret(value)
    elif each and isinstance(value, list):
        items = []
        for item in value:
            inner = dict(item) if isinstance(item, Mapping) else item
            if isinstance(inner, dict):
                _mark_secret(inner, rest)
            else:  # an item not known yet: hide all of it
                inner = pulumi.Output.secret(item)
            items.append(inner)
        props[key] = items
    elif isinstance(value, Mapping) and not each:
        inner = dict(value)
        _mark_secret(inner, rest)
        props[key] = inner
    else:  # an Output or other input whose shape is not known yet: hide all of it
        props[key] = pulumi.Output.secret(value)


def plain(value: Any) -> Any:
    """Input-type objects (`DestinationArgs(...)`) as the dicts they stand for, through plain containers,
    so secret marking sees nested keys; Outputs are left for the SDK to resolve."""
    if pulumi_types.is_input_type(type(value)):
        return {k: plain(v) for k, v in pulumi_types.input_type_to_dict(value).items()}
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [plain(v) for v in value]
    return value


def _exit_quietly(signum: int, _frame: object) -> None:
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(128 + signum)


def quiet_cancellation() -> None:
    """When a resource fails while the program still waits on others, the engine cancels the deployment and
    interrupts the program with SIGINT; Python's language host then prints two KeyboardInterrupt tracebacks of
    its own under the resource's clear error (upstream behaviour). The program has nothing left to do by then,
    so it exits quietly instead. Only in a program the language host runs (not a script or test using mocks, not
    an Automation API inline program), in its main thread, and never over a handler the user set."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return  # installed already (every later resource stops here), or a handler the user set
    if threading.current_thread() is not threading.main_thread():
        return  # an Automation API inline program runs in a thread of the host process
    from pulumi.runtime import settings
    from pulumi.runtime.mocks import MockMonitor

    monitor = settings.get_monitor()
    if monitor is None or isinstance(monitor, MockMonitor):
        return  # a script or test using mocks keeps its own Ctrl-C
    signal.signal(signal.SIGINT, _exit_quietly)


class MailinfraResource(pulumi.dynamic.Resource):
    """Registers `props` with the provider; every computed output becomes an attribute. The generated
    resource classes call `_register` with what their overloads accept: `(name, args, opts)` or
    `(name, opts, **fields)`."""

    def __init_subclass__(cls, module: str = "", name: str = "Resource") -> None:
        super().__init_subclass__(module=module, name=name)
        # The SDK reads a resource class's output types from its annotations on every registration
        # (`get_type_hints`, evaluating each string annotation again): evaluate them once, here.
        own = inspect.get_annotations(cls)
        if any(isinstance(annotation, str) for annotation in own.values()):
            holder = type(cls.__name__, (), {"__annotations__": dict(own)})
            with contextlib.suppress(Exception):  # a name not importable yet: left to the SDK, as before
                cls.__annotations__ = typing.get_type_hints(
                    holder, globalns=vars(sys.modules[cls.__module__]), localns={"Output": pulumi.Output})

    def _register(
        self, spec: ProgramSpec, args_type: type, resource_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        positional, fields = list(args), dict(kwargs)
        given = positional.pop(0) if positional and isinstance(positional[0], args_type) else fields.pop("args", None)
        opts = positional.pop(0) if positional else fields.pop("opts", None)
        adopt_existing = bool(fields.pop("adopt_existing", False))
        if positional:
            raise TypeError(f"{type(self).__name__}() takes (resource_name, args, opts) or (resource_name, opts, "
                            f"**fields); got {len(args)} positional arguments")
        if given is not None and fields:
            raise TypeError(f"{type(self).__name__}(): give either `args` or keyword fields, not both")
        props = given if given is not None else fields
        MailinfraResource.__init__(self, spec, resource_name, props, opts, adopt_existing=adopt_existing)

    def __init__(
        self,
        spec: ProgramSpec,
        resource_name: str,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        adopt_existing: bool = False,
    ) -> None:
        quiet_cancellation()
        program_wait.install()
        props = plain(props)
        unknown = sorted(set(props) - set(spec.input_keys))
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected inputs {unknown}; "
                            f"it takes {sorted(spec.input_keys)}")
        if spec.name_field and props.get(spec.name_field) is None and spec.autoname:
            props[spec.name_field] = None  # still an output attribute; `check` fills it in
            props[AUTONAME_KEY] = autoname(resource_name)
        _claim_identity(spec, props, resource_name)
        _claim_form(spec, props, resource_name)
        for path in spec.secret_paths:
            _mark_secret(props, path)
        if adopt_existing:
            props[ADOPT_KEY] = True
        props[OWNER_KEY] = (f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}: "
                            f"{spec.type_name} {resource_name!r}")
        ran = running_program_hash()
        if ran is not None:
            props[PROGRAM_KEY] = ran
        parents = _lasting_parents(spec, props)
        if parents is not None:
            props[PARENTS_KEY] = parents
        for key in spec.computed:
            props.setdefault(key, None)
        props[PROVIDER_KEY] = serialized_provider(spec)
        if spec.secret_outputs:  # outputs that are no input: marked secret by name, before they reach state
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=list(spec.secret_outputs)))
        if spec.delete_before_replace and (opts is None or opts.delete_before_replace is None):
            # Also for engine-forced replacements (`pulumi up --replace`, taint), where the provider's diff
            # is not asked: an object that keeps its unique name cannot exist twice.
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=True))
        self._mailinfra_spec = spec  # what a child's `_lasting_parents` asks of its parent
        # What pulumi.dynamic.Resource.__init__ does, minus a dill round per resource.
        pulumi.CustomResource.__init__(
            self, f"pulumi-python:{self._resource_type_name}", resource_name, props, opts
        )
        if spec.form_family and spec.form_self and spec.form_owner and props.get(spec.form_self) is not None:
            _form_of(spec.form_family, spec.form_owner, self.id, spec.type_name)  # items naming this id are refused
