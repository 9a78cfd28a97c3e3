"""Python names in programs and state, the API's names on the wire. A model field with an alias (`Field(
alias="wblistPriority")`) is sent under the alias and read back from it; fields without one travel under
their own name (GreenArrow's snake_case, Cleanmail's `bind_user`)."""

from __future__ import annotations

import functools
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds, through Optional / list / Annotated, or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


@functools.cache
def _fields(model: type[BaseModel]) -> dict[str, tuple[str, type[BaseModel] | None]]:
    """API name -> (Python name, nested model) for each field of `model`."""
    return {(info.alias or name): (name, _model_in(info.annotation)) for name, info in model.model_fields.items()}


def from_api(model: type[BaseModel], record: Any) -> Any:
    """An API record with the model's fields renamed to their Python names, nested models and lists of them
    too; keys the model does not know (ids, computed fields) are kept as they are."""
    if isinstance(record, list):
        return [from_api(model, item) for item in record]
    if not isinstance(record, Mapping):
        return record
    fields = _fields(model)
    out: dict[str, Any] = {}
    for key, value in record.items():
        name, nested = fields.get(key, (key, None))
        out[name] = from_api(nested, value) if nested is not None else value
    return out
