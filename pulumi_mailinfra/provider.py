"""The one generic CRUD dynamic provider. A resource is a `ResourceSpec` (model, paths, which inputs
force replacement, which are secret, which outputs are computed) plus, rarely, a hook override.

Design notes (Pulumi traps this is built around):
- Clients are built lazily from `configure`'d settings and cached per process (`http.cached_client`);
  the pickled provider holds only its class, so no credential or socket ever lands in state.
- `check` and `diff` may see the engine's unknown sentinel during preview: validation skips unknown
  values and `diff` reports them as changes. Neither sends a request, so a no-op preview costs 0 calls.
- Outputs are the validated inputs plus computed fields; `update` always returns all of them.
- Secret inputs arrive here as plaintext; every error message is redacted before it leaves.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import json
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic.fields import FieldInfo

from . import errors, ownership
from .config import CONFIG_NAMESPACE, settings_problem
from .diagnostics import forget_last_exchange, install_engine_logging, install_one_line_errors, last_exchange
from .program_spec import ADOPT_KEY, AUTONAME_KEY, OWNER_KEY, PARENTS_KEY, PROGRAM_KEY, ProgramSpec
from .reconcile import canonical, changed_keys, contains_unknown, is_unknown, reconcile, to_wire
from .validation import failures, validate
from .wire import from_api

if TYPE_CHECKING:
    from .http import ApiClient

CONTROL_KEYS = frozenset({ADOPT_KEY, AUTONAME_KEY, OWNER_KEY, PARENTS_KEY, PROGRAM_KEY})
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ResourceSpec:
    """Declarative description of one API object type. The typed resource class, its input types and its
    reference page are generated from it (`python -m pulumi_mailinfra.codegen`)."""

    type_name: str  # the resource class: "RelayServer"
    description: str  # what it is, for the class docstring and the reference page
    title: str  # "relay server", for messages
    service: str  # key into CLIENT_FACTORIES; also the package the resource lives in
    model: type[BaseModel]  # input model: every documented attribute and constraint
    collection: str  # e.g. "/relay_servers"; may use {input} placeholders
    wrapper: str | None  # the JSON key around one object ("relay_server"), None for a bare object
    items_key: str  # the JSON key of a list page: "relay_servers"
    replace_on: frozenset[str] = frozenset()  # inputs whose change forces replacement
    secret_paths: tuple[str, ...] = ()  # dotted input paths that are secret
    secret_outputs: tuple[str, ...] = ()  # computed outputs that are secret (a token the API answers once)
    outputs_model: type[BaseModel] | None = None  # API fields surfaced as read-only (computed) outputs
    not_sent: frozenset[str] = frozenset()  # inputs that live in the path, not the body
    name_field: str | None = "name"  # unique name: adopt and post-failure look-up key
    autoname: bool = True  # the name may be omitted: `<resource name>-<7 hex>` (False: a domain name, required)
    # Replace by deleting first (also for `pulumi up --replace`): the replacement keeps a unique identity.
    delete_before_replace: bool = True
    # "PUT": the whole object on update. "PATCH": only the fields that changed (the API keeps the others).
    update_method: str = "PUT"
    # A record whose field of this name is set is soft-deleted: it counts as gone (refresh drops it).
    deleted_field: str | None = None
    # Inputs sent as request headers on create, update and delete (not in the body): input -> header.
    header_inputs: tuple[tuple[str, str], ...] = ()
    # Where one object lives when not under `collection` (Cleanmail policies: POST /domains/{d}/policies,
    # then GET / PATCH / DELETE /policies/{id}).
    object_collection: str | None = None
    # Lists whose order means nothing to the API (`domains`, `rules[].domains`): another order is no change.
    unordered: tuple[str, ...] = ()
    # The inputs that make an object unique under its parents (the collection's placeholders), as the API compares
    # them: two resources of one program with one identity are refused before anything is sent. None: the name
    # field, if any; (): one object per parent (a whole list, a parent's setting).
    identity: tuple[str, ...] | None = None
    # Replacing the object keeps its id (the API restores a deleted object of the same name with it): children whose
    # replace-forcing input is this id are not replaced with it.
    keeps_id_when_replaced: bool = False
    # What a replacement deletes that no input declares (an account holder's own settings, a generated key
    # published in DNS): a change forcing one is refused at preview. Nothing is lost when the input named by
    # `loss_avoided_by` is given (a DKIM key pair declared in full).
    replacement_loses: str = ""
    loss_avoided_by: str | None = None
    replacement_note: str = ""  # what else a replacement does, for the reference page
    input_keys: tuple[str, ...] = field(init=False)
    computed: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_keys", tuple(self.model.model_fields))
        outputs = tuple(self.outputs_model.model_fields) if self.outputs_model else ()
        object.__setattr__(self, "computed", outputs)

    @property
    def identity_keys(self) -> tuple[str, ...] | None:
        """`identity` as given, else the name field; None: the type has no unique key."""
        if self.identity is not None:
            return self.identity
        return (self.name_field,) if self.name_field else None

    def identity_values(self, values: Mapping[str, Any]) -> tuple[str, ...]:
        """The identity of the object `values` (inputs or a record) declare, as the API compares it."""
        return tuple(str(canonical(values.get(key))).casefold() for key in self.identity_keys or ())

    @property
    def autoname_max_length(self) -> int | None:
        """The name field's documented maximum length (autonames are cut to fit), None without autonaming."""
        if not self.name_field or not self.autoname:
            return None
        limits = [m.max_length for m in self.model.model_fields[self.name_field].metadata if hasattr(m, "max_length")]
        return min(limits) if limits else 200


def _values_at(value: Any, steps: list[str]) -> list[Any]:
    """The non-null values at a dotted path whose `name[*]` steps go through every item of a list."""
    if not steps:
        return [] if value is None else [value]
    if not isinstance(value, Mapping):
        return []
    step, rest = steps[0], steps[1:]
    if step.endswith("[*]"):
        items = value.get(step[:-3])
        return [found for item in items or [] for found in _values_at(item, rest)] if isinstance(items, list) else []
    return _values_at(value.get(step), rest)


def _same_lasting_parent(key: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """The input is not known yet only because the parent it names is being replaced (`up --replace`, or the
    engine asking, before deleting that parent, which dependents go with it), and that parent keeps its id when
    replaced: the value will be the same."""
    if not is_unknown(news.get(key)):
        return False
    new_sources, old_sources = news.get(PARENTS_KEY), olds.get(PARENTS_KEY)
    if not isinstance(new_sources, Mapping) or not isinstance(old_sources, Mapping):
        return False
    source = new_sources.get(key)
    return isinstance(source, str) and source == old_sources.get(key)


@functools.cache
def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    info: FieldInfo = model.model_fields[name]
    annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    return TypeAdapter(annotation)


def normalized(model: type[BaseModel], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs as the model reads them, field by field: `"12"` and `12.0` become 12, nested keys left out take
    their documented default (`username: None`), top-level fields left out take theirs. This is what state
    records and `diff` compares, so a default and its explicit spelling never differ, and a value set out of
    band where the program declared none is seen as drift. Values not known yet (preview) and values that
    fail validation (reported by `failures`) are left as given."""
    out = dict(inputs)
    for name, info in model.model_fields.items():
        value = inputs.get(name)
        if value is None:
            default = None if info.is_required() else info.get_default(call_default_factory=True)
            if default is not None:
                out[name] = _field_adapter(model, name).dump_python(
                    default, mode="json", exclude_none=getattr(model, "omit_unset", False))
            continue
        if contains_unknown(value):
            continue
        adapter = _field_adapter(model, name)
        with contextlib.suppress(PydanticValidationError):  # reported by `failures`, left as given
            out[name] = adapter.dump_python(adapter.validate_python(value), mode="json",
                                            exclude_none=getattr(model, "omit_unset", False))
    return out


def _value_at(values: Any, path: str) -> Any:
    for part in re.findall(r"[^.\[\]]+", path):
        if isinstance(values, Mapping):
            values = values.get(part)
        elif isinstance(values, list) and part.isdigit() and int(part) < len(values):
            values = values[int(part)]
        else:
            return None
    return values


def _ascii_name(text: str) -> str:
    """Letters (accents dropped), digits, '-', '_' and '.': what every name type of every service accepts."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9_.-]", "-", ascii_text)).strip("-_.") or "resource"


def _same_logical_name(previous: str, candidate: str) -> bool:
    """Whether `previous` is an autoname of the candidate's logical name (state written before the choice
    was recorded): `<logical>-<7 hex>` in either spelling."""
    match = re.fullmatch(r"(.*)-[0-9a-f]{7}", previous)
    logical = candidate[:-8]
    return bool(match) and match.group(1) in {logical, _ascii_name(logical)}  # type: ignore[union-attr]


_ADOPTED: set[tuple[str, str, str]] = set()
_ADOPTED_LOCK = threading.Lock()

# service name -> function(raw_config) -> client. By default `pulumi_mailinfra.<service>.client.<service>_client`,
# imported on first use: a program that only declares resources never loads httpx (~0.1 s at every start).
CLIENT_FACTORIES: dict[str, Callable[[Mapping[str, Any]], ApiClient]] = {}


def client_factory(service: str) -> Callable[[Mapping[str, Any]], ApiClient]:
    factory = CLIENT_FACTORIES.get(service)
    if factory is None:
        module = importlib.import_module(f"{__package__}.{service}.client")
        factory = CLIENT_FACTORIES.setdefault(service, getattr(module, f"{service}_client"))
    return factory


def values_at(node: Any, path: str) -> list[Any]:
    """The values at a dotted path whose `name[]` parts step into every item of a list."""
    nodes = [node]
    for part in path.split("."):
        key, is_list = part.removesuffix("[]"), part.endswith("[]")
        nodes = [n.get(key) for n in nodes if isinstance(n, Mapping)]
        if is_list:
            nodes = [item for n in nodes if isinstance(n, list) for item in n]
    return [n for n in nodes if n is not None]


# What outputs hold for a secret the API has where the program declares none: the value itself would land in state
# unencrypted (secretness follows the inputs' secrets), and any non-null value shows the drift.
UNDECLARED_SECRET = "(secret set out of band)"


def _secret_output(outs: Any, desired: Any, path: str) -> None:
    """The output at a secret input path. A secret the API does not answer (null: write-only) keeps the value
    given; compared it would show as drift on every refresh. One the API answers where the program declares none
    (or only the marker, when `read` gets the last outputs) is drift, shown as UNDECLARED_SECRET, never its value.
    Otherwise it is compared like any value."""
    head, _, rest = path.partition(".")
    key, each = head.removesuffix("[]"), head.endswith("[]")
    if not isinstance(outs, dict):
        return
    wanted = desired.get(key) if isinstance(desired, Mapping) else None
    if not rest:
        declared = wanted not in (None, UNDECLARED_SECRET)
        if outs.get(key) is None and declared:
            outs[key] = wanted
        elif outs.get(key) is not None and not declared:
            outs[key] = UNDECLARED_SECRET
        return
    if each:
        wanted_items = wanted if isinstance(wanted, list) else []
        for index, out_item in enumerate(outs.get(key) or []):
            _secret_output(out_item, wanted_items[index] if index < len(wanted_items) else None, rest)
    else:
        _secret_output(outs.get(key), wanted, rest)


def _secret_values(spec: ResourceSpec, *bags: Mapping[str, Any] | None) -> list[str]:
    return [value for bag in bags for path in (*spec.secret_paths, *spec.secret_outputs)
            for value in values_at(bag or {}, path) if isinstance(value, str) and value]


def _one_line(text: str, limit: int = 400) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def redacting(method: F) -> F:
    """Re-raise any failure with secret input values blanked out of its message."""

    @functools.wraps(method)
    def wrapper(self: CrudProvider, *args: Any) -> Any:
        forget_last_exchange()
        try:
            return method(self, *args)
        except Exception as exc:
            bags = [a for a in args if isinstance(a, Mapping)]
            secrets = _secret_values(self.spec, *bags)
            text = errors.redact(str(exc), secrets)
            if text == str(exc) and isinstance(exc, errors.MailinfraError):
                raise
            answered = last_exchange()
            if answered is not None and not isinstance(exc, errors.MailinfraError):
                # Most likely an answer of a shape the API does not document: say which request it was.
                raise errors.MailinfraError(
                    f"{self.spec.title} {method.__name__}: could not use the answer to {answered}: "
                    f"{type(exc).__name__}: {_one_line(text)}") from None
            raise errors.MailinfraError(f"{type(exc).__name__}: {text}") from None

    return wrapper  # type: ignore[return-value]


class CrudProvider(ResourceProvider):
    """Generic create/read/update/delete against one collection of a JSON API."""

    spec: ClassVar[ResourceSpec]
    serialize_as_secret_always = False  # the pickle holds only the class: nothing secret in it
    max_ambiguous_retries: ClassVar[int] = 3

    def __getstate__(self) -> dict[str, Any]:
        return {}  # settings come from `configure` in the provider process, never from the pickle

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._raw_config = None

    def configure(self, req: ConfigureRequest) -> None:
        install_engine_logging()  # API requests become debug diagnostics (`pulumi up --debug`)
        install_one_line_errors()  # a failed call reads as one line, not a Python traceback
        props = getattr(req.config, "_props", {}) or {}
        self._raw_config = {k: v for k, v in props.items() if k.startswith(f"{CONFIG_NAMESPACE}:")}

    @classmethod
    def program_spec(cls) -> ProgramSpec:
        """What a program needs of this type (generated into the service's resources.py by codegen)."""
        spec = cls.spec
        return ProgramSpec(
            provider=f"{cls.__module__}:{cls.__qualname__}",
            type_name=spec.type_name,
            input_keys=spec.input_keys,
            computed=spec.computed,
            name_field=spec.name_field,
            autoname=bool(spec.name_field) and spec.autoname,
            identity=spec.identity_keys,
            scope=tuple(re.findall(r"{(\w+)}", spec.collection)),
            secret_paths=spec.secret_paths,
            secret_outputs=spec.secret_outputs,
            delete_before_replace=spec.delete_before_replace,
            replace_on=tuple(sorted(spec.replace_on)),
            keeps_id_when_replaced=spec.keeps_id_when_replaced,
            form_family=getattr(cls, "form_family", None),
            form_owner=getattr(cls, "form_owner", None) if getattr(cls, "form_family", None) else None,
            form_self=getattr(cls, "form_self", None) if getattr(cls, "form_family", None) else None,
            name_namespace=getattr(cls, "name_namespace", None),
            namespace_lists=getattr(cls, "namespace_lists", ()),
        )

    # ----- plumbing -------------------------------------------------------------------------------
    def client(self) -> ApiClient:
        return client_factory(self.spec.service)(getattr(self, "_raw_config", None) or {})

    def collection_path(self, inputs: Mapping[str, Any]) -> str:
        return self.spec.collection.format(**{k: canonical(v) for k, v in inputs.items()})

    def object_path(self, inputs: Mapping[str, Any], id_: str) -> str:
        if self.spec.object_collection:
            return f"{self.spec.object_collection.format(**{k: canonical(v) for k, v in inputs.items()})}/{id_}"
        return f"{self.collection_path(inputs)}/{id_}"

    def unwrap(self, data: Any) -> dict[str, Any]:
        """One object from an answer, its fields under their Python names."""
        wrapper = self.spec.wrapper
        if wrapper and isinstance(data, Mapping) and isinstance(data.get(wrapper), Mapping):
            data = data[wrapper]
        elif not (isinstance(data, Mapping) and "id" in data):  # tolerate a service that drops the wrapper
            shape = f"the keys {sorted(data)}" if isinstance(data, Mapping) else f"a JSON {type(data).__name__}"
            raise errors.MailinfraError(f"unexpected answer to {last_exchange() or 'a request'}: expected a "
                                        f"{self.spec.title} (an object with an id), got {shape}")
        record = from_api(self.spec.model, data)
        return from_api(self.spec.outputs_model, record) if self.spec.outputs_model else record

    def headers(self, inputs: Mapping[str, Any]) -> dict[str, str]:
        """The request headers some inputs stand for (`ignore_mx` -> `X-Ignore-MX: true`)."""
        found = {header: canonical(inputs.get(name)) for name, header in self.spec.header_inputs}
        return {header: str(value).lower() if isinstance(value, bool) else str(value)
                for header, value in found.items() if value not in (None, False)}

    def is_gone(self, record: Mapping[str, Any]) -> bool:
        return bool(self.spec.deleted_field and record.get(self.spec.deleted_field))

    @staticmethod
    def inputs_of(props: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in props.items() if not k.startswith("__")}

    def declared(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs in full, as `check` recorded them: the engine drops every null on the way to a provider, so
        nested keys the program left unset (`destination.password`) come back here as null. Compared in that
        shape, a value the API holds where the program declares none is drift, not an unknown key ignored."""
        return normalized(self.spec.model, self.inputs_of(props))

    def validated(self, inputs: Mapping[str, Any]) -> BaseModel:
        args, problems = validate(self.spec.model, self.desired(inputs), is_unknown)
        if args is None:
            detail = "; ".join(f"{path}: {reason}" for path, reason in problems)
            raise errors.MailinfraError(f"invalid {self.spec.title}: {detail or 'inputs are not known yet'}")
        return args

    def desired(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs that describe the object (no control keys, no computed outputs)."""
        return {k: inputs[k] for k in self.spec.input_keys if k in inputs and inputs[k] is not None}

    # ----- hooks a resource may override ----------------------------------------------------------
    def payload(self, args: BaseModel, inputs: Mapping[str, Any]) -> dict[str, Any]:
        body = args.model_dump(mode="json", by_alias=True, exclude=set(self.spec.not_sent),
                               exclude_none=self.spec.model.omit_unset)  # type: ignore[attr-defined]
        return {self.spec.wrapper: body} if self.spec.wrapper else body

    def outputs(self, inputs: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
        """Full outputs: the desired inputs as the API now has them, plus computed fields."""
        desired = canonical(self.inputs_of(inputs), keep_nulls=True)
        outs = {k: v for k, v in desired.items()
                if k in self.spec.input_keys or k in CONTROL_KEYS - {OWNER_KEY, PROGRAM_KEY}}
        unset_unmanaged = getattr(self.spec.model, "omit_unset", False)
        for key in self.spec.input_keys:
            if key in record and key not in self.spec.not_sent and (key in outs or not unset_unmanaged):
                outs[key] = reconcile(outs.get(key), record[key]) if key in outs else canonical(record[key])
        for key in self.spec.computed:
            outs[key] = canonical(record.get(key))
        for path in self.spec.secret_paths:
            _secret_output(outs, desired, path)
        return outs

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return self.unwrap(client.get(client.path(self.object_path(inputs, id_))))

    def listed_item(self, client: ApiClient, id_: str, inputs: Mapping[str, Any], **params: Any) -> dict[str, Any]:
        """The object `id_` from its collection's list (`params` narrow it), for an API with no GET of one object;
        NotFoundError when it is not listed."""
        path = self.collection_path(inputs)
        for item in client.list_all(path, self.spec.items_key, **params):
            if str(item.get("id")) == str(id_):
                return dict(item)
        raise errors.NotFoundError(self.spec.service, "GET", path, 404, "not_found",
                                   [f"no {self.spec.title} {id_} in {path}"])

    def find_existing(self, client: ApiClient, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        """The object this resource would create, if it already exists (by its unique name)."""
        name_field = self.spec.name_field
        if not name_field or not isinstance(inputs.get(name_field), str):
            return None
        found = client.find_by_name(self.collection_path(inputs), self.spec.items_key, inputs[name_field], name_field)
        return None if found is None else self.fetch(client, str(found["id"]), inputs)

    def send_create(self, client: ApiClient, body: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        return self.unwrap(client.create(self.collection_path(inputs), body, headers=self.headers(inputs)))

    def send_update(
        self, client: ApiClient, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], args: BaseModel
    ) -> dict[str, Any]:
        path = client.path(self.object_path(news, id_))
        body = self.payload(args, news)
        if self.spec.update_method == "PATCH":
            changed = self.changed_fields(body, olds)
            if changed:  # PATCH answers 204: read the object back for the full outputs
                client.request("PATCH", path, json=changed, headers=self.headers(news))
            return self.fetch(client, id_, news)
        return self.unwrap(client.request("PUT", path, json=body, headers=self.headers(news)))

    def changed_fields(self, body: Mapping[str, Any], olds: Mapping[str, Any]) -> dict[str, Any]:
        """The top-level fields of `body` that differ from the recorded state (all of them when the state
        does not validate, e.g. when adopting an object): what a PATCH sends."""
        try:
            before = self.payload(self.spec.model.model_validate(normalized(self.spec.model, self.desired(olds))), olds)
        except PydanticValidationError:
            return dict(body)
        changed = {k: v for k, v in body.items() if canonical(v) != canonical(before.get(k))}
        return changed | {k: None for k in before if k not in body}  # a field no longer given is cleared

    # ----- the ResourceProvider protocol ----------------------------------------------------------
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = self.inputs_of(news)
        for key in self.spec.computed:
            inputs.pop(key, None)
        candidate = news.get(AUTONAME_KEY)
        name_field = self.spec.name_field
        naming_problem = None
        if name_field and self.spec.autoname and inputs.get(name_field) is None and isinstance(candidate, str):
            inputs[name_field], naming_problem = self.autoname(candidate, olds)
        problems = failures(self.spec.model, self.desired(inputs), is_unknown)
        if naming_problem:
            problems = [p for p in problems if p[0] != name_field] + [(name_field or "name", naming_problem)]
        unknown_keys = set(inputs) - set(self.spec.input_keys) - CONTROL_KEYS
        problems += [(key, f"is not an input of {self.spec.type_name}; it takes {', '.join(self.spec.input_keys)}")
                     for key in sorted(unknown_keys)]
        normal = normalized(self.spec.model, inputs)
        problems += self.repeated_items(normal)
        checked = to_wire(normal)
        if isinstance(candidate, str):
            checked[AUTONAME_KEY] = candidate  # kept in state: marks the name as chosen by us
        found = [self.check_failure(path, reason, inputs) for path, reason in problems]
        settings = settings_problem(self.spec.service, getattr(self, "_raw_config", None))
        if settings:
            found.append(CheckFailure("", f"provider settings: {settings}"))
        return CheckResult(checked, found)

    def repeated_items(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        """A set-like list of names with one item twice (or in two cases): the API keeps one, so every later
        preview would show the list changing. Refused at preview instead."""
        problems = []
        for path in self.spec.unordered:
            items = inputs.get(path)
            if "." in path or "[" in path or not isinstance(items, list):
                continue
            seen: dict[str, str] = {}
            repeated: dict[str, str] = {}
            for item in items:
                if not isinstance(item, str) or is_unknown(item):
                    continue
                key = item.casefold()
                if key in seen and key not in repeated:
                    first, again = json.dumps(seen[key]), json.dumps(item)  # quoted: "" shows as ""
                    repeated[key] = again if first == again else f"{first} / {again}"
                seen.setdefault(key, item)
            if repeated:
                listed = ", ".join(repeated.values())
                problems.append((path, f"{listed} listed more than once (compared case-insensitively, as the API "
                                       "does): give each once"))
        return problems

    def autoname(self, candidate: str, olds: Mapping[str, Any]) -> tuple[str, str | None]:
        """The name of a resource given none: the one chosen before when there is one (so renaming the stack
        or project renames nothing), else the program's `<logical name>-<7 hex>` candidate, made valid for
        the type (cut to the maximum length; characters the type refuses become '-', accents are dropped).
        Returns (name, problem) where problem explains a logical name no valid name can be derived from."""
        name_field = self.spec.name_field or "name"
        previous = olds.get(name_field)
        if isinstance(previous, str) and (AUTONAME_KEY in olds or _same_logical_name(previous, candidate)):
            return previous, None
        logical, suffix = candidate[:-8], candidate[-8:]
        limit = (self.spec.autoname_max_length or 200) - len(suffix)
        adapter = _field_adapter(self.spec.model, name_field)
        for attempt in (logical, _ascii_name(logical)):
            name = attempt[:limit].rstrip(" -_.") + suffix
            with contextlib.suppress(PydanticValidationError):
                adapter.validate_python(name)
                return name, None
        return candidate, (f"no valid {self.spec.title} name can be derived from the resource name {logical!r}; "
                           f"set `{name_field}` explicitly")

    def check_failure(self, path: str, reason: str, inputs: Mapping[str, Any]) -> CheckFailure:
        """A failure the engine prints readably. It looks a failure's property up as a top-level key only (a
        nested path prints `value {<nil>}`), so the path and the offending value go into the reason, which the
        engine prints as `resource 'x' has a problem: destination.port: ... (got 70000)`. Secret values are
        never quoted."""
        value = _value_at(inputs, path)
        bare_path = re.sub(r"\[\d+\]", "", path)
        secrets = [secret.replace("[]", "") for secret in self.spec.secret_paths]
        if value is None or is_unknown(value) or isinstance(value, (Mapping, list)):
            shown = ""
        elif any(bare_path == secret or bare_path.startswith(f"{secret}.") for secret in secrets):
            shown = " (got a secret value)"
        else:
            text = json.dumps(canonical(value))
            shown = f" (got {text if len(text) <= 80 else text[:77] + '...'})"
        return CheckFailure("", f"{path}: {reason}{shown}")

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = list(self.spec.input_keys)  # control keys (adopt_existing) only matter at create
        changed = [k for k in changed_keys(olds, news, keys, self.spec.unordered)
                   if not _same_lasting_parent(k, olds, news)]
        replaces = [k for k in changed if k in self.spec.replace_on]
        if replaces:
            self.refuse_losing_replacement(replaces, olds, news)
        name_field = self.spec.name_field
        same_name = bool(name_field) and name_field not in changed
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[k for k in keys if k not in changed],
            # A unique name that stays the same cannot exist twice: delete the old one first.
            delete_before_replace=bool(replaces) and same_name,
        )

    def refuse_losing_replacement(self, replaces: list[str], olds: Mapping[str, Any], news: Mapping[str, Any]) -> None:
        """A change that forces a replacement destroying what the stack does not declare stops the preview, naming
        what would be lost and how to do it on purpose. `pulumi up --replace` is not asked here: the engine
        replaces what it names, as told."""
        spec = self.spec
        if not spec.replacement_loses or (spec.loss_avoided_by and news.get(spec.loss_avoided_by) is not None):
            return
        fields = ", ".join(f"`{key}`" for key in replaces)
        unknown = [key for key in replaces if is_unknown(news.get(key))]
        why = (f"{fields} changes" if not unknown else
               f"{fields} changes (its value is not known until the object it names is created or replaced)")
        identity = " ".join(f"{canonical(olds.get(key))!r}" for key in spec.identity_keys or ()) or str(olds.get("id"))
        avoid = f" Nothing is lost when `{spec.loss_avoided_by}` is given." if spec.loss_avoided_by else ""
        raise errors.MailinfraError(
            f"{spec.title} {identity}: {why}, which the API cannot change in place, so the {spec.title} would be "
            f"replaced, and replacing it deletes {spec.replacement_loses}, which this stack does not declare; "
            f"nothing was changed. To do it on purpose, declare the new {spec.title} as another resource (another "
            f"resource name) and remove this one from the program, so the preview shows the delete; or set {fields} "
            f"back.{avoid}")

    @redacting
    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.declared(props)
        args = self.validated(inputs)
        client = self.client()
        record = None
        if inputs.get(ADOPT_KEY):
            existing = self.existing_to_adopt(client, inputs)
            if existing is not None:
                self._claim_adoption(client, inputs, str(existing["id"]))
                # Already as declared: taken over without a write (a value the API keeps but would refuse if
                # sent again, such as a passed expiry, stays as it is). A write-only secret cannot be compared.
                unchanged = not self.differences(inputs, existing) and not self._declares_secret(inputs)
                record = dict(existing) if unchanged else self.send_update(
                    client, str(existing["id"]), {}, inputs, args)
        if record is None:
            record = self._create_once(client, args, inputs)
        return CreateResult(str(record["id"]), self.outputs(inputs, record))

    def existing_to_adopt(self, client: ApiClient, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        """What `adopt_existing` takes over: the object creating `inputs` would make, if it exists."""
        return self.find_existing(client, inputs)

    def _declares_secret(self, inputs: Mapping[str, Any]) -> bool:
        """Whether the inputs give a value at one of the type's secret paths (`platforms[].api_data.password`)."""
        return any(_values_at(inputs, path.replace("[]", "[*]").split(".")) for path in self.spec.secret_paths)

    def _claim_adoption(self, client: ApiClient, inputs: Mapping[str, Any], id_: str) -> None:
        """One deployment (one provider process) adopts an object once: two resources taking over one object
        would undo each other's changes on every `up`."""
        key = (self.spec.type_name, f"{client.settings.url}{self.collection_path(inputs)}", id_)
        with _ADOPTED_LOCK:
            if key in _ADOPTED:
                raise errors.MailinfraError(
                    f"{self.spec.title} {id_} ({inputs.get(self.spec.name_field or '')!r}) is already adopted by "
                    "another resource of this stack; names are unique case-insensitively, so give one of them "
                    "another name")
            _ADOPTED.add(key)

    def _create_once(self, client: ApiClient, args: BaseModel, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """POST, idempotently: the object may already exist because an earlier run made it and then lost its
        answer (a dropped connection, a killed CLI, state not yet written). So after an ambiguous failure, or a
        refusal of the name as taken, the object this resource would create is looked up: when it matches the
        inputs it is taken over instead of duplicated; when it differs the create stops and says where."""
        body = self.payload(args, inputs)
        owner = inputs.get(OWNER_KEY)
        target = self.ownership_target(client, body, inputs)
        previous = ownership.set_out_to_create(target, str(owner)) if owner else None
        if owner and previous not in (None, owner):
            # Another resource set out to create this object: if it is there, it is that one's, and a lost answer
            # below could not tell it from one this call made. Look first (one read, only in this case).
            try:
                found = self.find_existing(client, inputs)
            except Exception:
                ownership.undo(target, str(owner), previous)  # nothing was sent: the journal says what it said
                raise
            if found is not None and not self.is_gone(found):  # a soft-deleted object is no one's: restored
                ownership.undo(target, str(owner), previous)
                raise errors.MailinfraError(self._not_made_here(inputs, found, previous))
        for attempt in range(self.max_ambiguous_retries + 1):
            try:
                return self.send_create(client, body, inputs)
            except errors.AmbiguousWriteError:
                if attempt == self.max_ambiguous_retries:
                    raise
                time.sleep(min(2.0, 0.25 * 2**attempt))  # let a struggling server settle first
                found = self.find_existing(client, inputs)
                if found is not None:
                    return self._take_over(client, args, inputs, found, "its creation's answer was lost")
                previous = owner  # this very call may have made it: a refusal of the next attempt proves nothing
            except (errors.InUseError, errors.ValidationError) as refusal:
                found = self.find_existing(client, inputs)
                if found is None:
                    if owner and attempt == 0:
                        ownership.undo(target, str(owner), previous)  # refused, nothing made: as it was before
                    raise
                if not owner or previous != owner:
                    if owner:
                        ownership.undo(target, str(owner), previous)
                    raise errors.MailinfraError(f"{self._not_made_here(inputs, found, previous)} ({refusal})") from None
                return self._take_over(client, args, inputs, found, str(refusal))
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def ownership_target(self, client: ApiClient, body: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
        """The object a create makes, as the journal names it: the API, the collection and the type's identity
        (the whole body for a type without one)."""
        if self.spec.identity_keys is None:
            what = hashlib.sha256(json.dumps(canonical(body), sort_keys=True, default=str).encode()).hexdigest()
        else:
            what = "|".join(self.spec.identity_values(inputs))
        return f"{self.spec.type_name} {client.settings.url}{self.collection_path(inputs)} {what}"

    def _not_made_here(self, inputs: Mapping[str, Any], found: Mapping[str, Any], previous: str | None) -> str:
        label = repr(inputs.get(self.spec.name_field)) if self.spec.name_field else f"id {found['id']}"
        maker = (f"{previous} set out to create it" if previous else "no create of it by this resource is recorded "
                 "on this machine: another stack, someone out of band or a run killed on another machine made it")
        return (f"{self.spec.title} {label} already exists (id {found['id']}) and this resource did not make it "
                f"({maker}); nothing was changed. If it is yours to manage, set adopt_existing=True on this resource "
                "(its inputs are then applied to it); otherwise declare another one")

    def _take_over(
        self, client: ApiClient, args: BaseModel, inputs: Mapping[str, Any], found: Mapping[str, Any], why: str
    ) -> dict[str, Any]:
        """Take over `found`, the object creating `inputs` would make, if it matches them; else refuse."""
        id_ = str(found["id"])
        label = repr(inputs.get(self.spec.name_field)) if self.spec.name_field else id_
        differing = self.differences(inputs, found)
        if differing:
            raise errors.MailinfraError(
                f"{self.spec.title} {label} already exists (id {id_}) and differs from the inputs in "
                f"{', '.join(differing)}; nothing was changed. If it is yours to manage, set adopt_existing=True "
                f"(the inputs are then applied to it); otherwise declare it differently ({why})")
        self._claim_adoption(client, inputs, id_)
        if self._declares_secret(inputs):  # a write-only secret cannot be compared: apply the inputs' own
            return self.send_update(client, id_, {}, inputs, args)
        return dict(found)

    def differences(self, inputs: Mapping[str, Any], record: Mapping[str, Any]) -> list[str]:
        """The inputs whose value `record` does not have, as the next preview would compare them: [] when
        creating `inputs` would have made `record`."""
        return changed_keys(self.outputs(inputs, record), inputs, list(self.spec.input_keys), self.spec.unordered)

    @redacting
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = self.declared(props)
        try:
            record = self.fetch(self.client(), id_, inputs)
        except errors.NotFoundError:
            return ReadResult(None, {})  # gone out of band: refresh drops it, the next up recreates it
        if self.is_gone(record):  # soft-deleted counts as gone too
            return ReadResult(None, {})
        return ReadResult(id_, self.outputs(inputs, record))

    @redacting
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = self.declared(news)
        args = self.validated(inputs)
        try:
            record = self.send_update(self.client(), id_, olds, inputs, args)
        except errors.NotFoundError as exc:
            raise errors.MailinfraError(
                f"{self.spec.title} {id_} no longer exists ({exc}); run `pulumi refresh` (or "
                "`pulumi up --refresh`) so the next update recreates it"
            ) from None
        return UpdateResult(self.outputs(inputs, record))

    @redacting
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = self.client()
        inputs = self.inputs_of(props)
        try:
            client.request("DELETE", client.path(self.object_path(inputs, id_)), headers=self.headers(inputs))
        except errors.NotFoundError:
            return  # already gone: deleting it succeeded
        except (errors.ValidationError, errors.InUseError, errors.UnexpectedResponseError):
            # Refused, maybe because an earlier run deleted it and lost the answer ("already deleted"), or
            # answered with something no documented answer looks like: gone is gone, else the error stands.
            if not self.exists(client, id_, inputs):
                return
            raise

    def exists(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> bool:
        """Whether the object is still there (and not soft-deleted)."""
        try:
            return not self.is_gone(self.fetch(client, id_, inputs))
        except errors.NotFoundError:
            return False

