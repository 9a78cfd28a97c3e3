"""Names a package exports but loads from a submodule on first use (PEP 562)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, submodule: str, names: tuple[str, ...]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package` that imports `names` from its `submodule` when first asked for, then
    keeps them in the package (so the next access is a plain attribute)."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(submodule, package), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
