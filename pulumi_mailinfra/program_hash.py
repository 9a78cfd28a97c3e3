"""A digest of a Pulumi program as it is on disk, recorded by every resource a program registers (the control
input `program_hash`, never sent to an API) so `mailinfra promote` can tell whether the program it would promote is
the one the source stack last ran."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".state", ".tools", "tests", "build", "dist"}


def program_hash(project_dir: Path) -> str:
    """Pulumi.yaml and every Python file of the project (virtualenvs, state and tests left out), by relative path,
    so the same program hashes the same anywhere."""
    digest = hashlib.sha256()
    files = [project_dir / "Pulumi.yaml", *sorted(_python_files(project_dir))]
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(project_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _python_files(folder: Path) -> Iterator[Path]:
    for path in folder.iterdir():
        if path.is_dir() and path.name not in SKIPPED_DIRS and not path.name.startswith("."):
            yield from _python_files(path)
        elif path.suffix == ".py":
            yield path


@functools.cache
def _hash_of_project_around(cwd: str) -> str | None:
    folder = Path(cwd)
    for candidate in (folder, *folder.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return program_hash(candidate)
    return None


def running_program_hash() -> str | None:
    """The hash of the project the running program belongs to (the language host runs it in its folder); None
    outside a project."""
    return _hash_of_project_around(os.getcwd())
