"""The emulator's state store, shared by every emulated service: objects by kind and id, id sequences,
one lock, writes that apply whole or not at all, and optional persistence to one SQLite file (tables
`objects(kind, id, doc)` and `meta(key, value)`, rows namespaced `<service>/` so services share the file).
Ids may be integers (GreenArrow) or strings (Cleanmail's `Eygdk`)."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any


class ObjectStore:
    """Base of a service backend: `_objects[kind][id] = doc`, `_next_id(sequence)`, `with self._write():`."""

    def __init__(
        self, namespace: str, kinds: Iterable[str], sequences: Iterable[str],
        state_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self._namespace, self._kinds, self._sequences = namespace, tuple(kinds), tuple(sequences)
        self._lock = threading.RLock()
        self._objects: dict[str, dict[Any, dict]] = {kind: {} for kind in self._kinds}
        self._seq: dict[str, int] = dict.fromkeys(self._sequences, 0)
        self._dirty = False
        self._db: sqlite3.Connection | None = None
        if state_path is not None:
            if not os.path.exists(state_path):  # owner-only: it holds every secret the emulated APIs were sent
                os.close(os.open(state_path, os.O_CREAT | os.O_WRONLY, 0o600))
            self._db = sqlite3.connect(os.fspath(state_path), check_same_thread=False)
            self._db.executescript(
                "CREATE TABLE IF NOT EXISTS objects"
                " (kind TEXT NOT NULL, id INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, id));"
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            )
            self._db.commit()
            self._load()

    def _load(self) -> None:
        assert self._db is not None
        self._objects = {kind: {} for kind in self._kinds}
        self._seq = dict.fromkeys(self._sequences, 0)
        prefix = f"{self._namespace}/"
        rows = self._db.execute("SELECT kind, id, doc FROM objects WHERE kind LIKE ? ORDER BY id", (prefix + "%",))
        for kind, oid, doc in rows:
            self._objects.setdefault(kind.removeprefix(prefix), {})[oid] = json.loads(doc)
        for key, value in self._db.execute("SELECT key, value FROM meta WHERE key LIKE ?", (prefix + "seq/%",)):
            self._seq[key.removeprefix(prefix + "seq/")] = int(value)

    @contextmanager
    def _write(self) -> Iterator[None]:
        """Hold the lock for a write; commit on success, undo a half-applied write on failure."""
        with self._lock:
            self._dirty = False
            try:
                yield
            except BaseException:
                if self._db is not None and self._dirty:
                    self._db.rollback()
                    self._load()
                raise
            if self._db is not None and self._dirty:
                try:
                    self._db.commit()
                except BaseException:  # memory must not run ahead of the file
                    self._db.rollback()
                    self._load()
                    raise

    def _put(self, kind: str, doc: dict) -> dict:
        self._objects[kind][doc["id"]] = doc
        self._dirty = True
        if self._db is not None:
            self._db.execute("INSERT OR REPLACE INTO objects (kind, id, doc) VALUES (?, ?, ?)",
                             (f"{self._namespace}/{kind}", doc["id"], json.dumps(doc)))
        return doc

    def _remove(self, kind: str, oid: Any) -> None:
        del self._objects[kind][oid]
        self._dirty = True
        if self._db is not None:
            self._db.execute("DELETE FROM objects WHERE kind = ? AND id = ?", (f"{self._namespace}/{kind}", oid))

    def _next_id(self, sequence: str) -> int:
        self._seq[sequence] += 1
        self._dirty = True
        if self._db is not None:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             (f"{self._namespace}/seq/{sequence}", str(self._seq[sequence])))
        return self._seq[sequence]

    def inventory(self) -> dict[str, list[dict]]:
        """Every stored object by kind (copies): what the emulator holds, for campaigns and tests to compare."""
        with self._lock:
            return {kind: json.loads(json.dumps(list(docs.values()))) for kind, docs in self._objects.items()}

    def reset(self) -> None:
        """Forget every record and restart all id sequences."""
        with self._write():
            self._objects = {kind: {} for kind in self._kinds}
            self._seq = dict.fromkeys(self._sequences, 0)
            self._dirty = True
            if self._db is not None:
                self._db.execute("DELETE FROM objects WHERE kind LIKE ?", (f"{self._namespace}/%",))
                self._db.execute("DELETE FROM meta WHERE key LIKE ?", (f"{self._namespace}/%",))

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
