"""Which resource of which stack last set out to create an object: the provider's proof that an object it finds
where it meant to create one is its own (a create whose answer was lost, a run killed before the engine recorded
what it made), and not another stack's or someone's made out of band.

A small SQLite file next to the Pulumi CLI's own settings (`$PULUMI_HOME/mailinfra/creates.sqlite`, or
`MAILINFRA_OWNERSHIP_JOURNAL`): it is local to the machine that ran the create (trade-off in docs/assumptions.md).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

_LOCK = threading.Lock()  # the dynamic provider serves four calls at once; SQLite serialises processes


def journal_path() -> Path:
    explicit = os.environ.get("MAILINFRA_OWNERSHIP_JOURNAL")
    if explicit:
        return Path(explicit)
    home = os.environ.get("PULUMI_HOME") or str(Path.home() / ".pulumi")
    return Path(home) / "mailinfra" / "creates.sqlite"


def _connect() -> sqlite3.Connection:
    path = journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS creates (target TEXT PRIMARY KEY, owner TEXT NOT NULL)")
    return db


def set_out_to_create(target: str, owner: str) -> str | None:
    """Record, durably and before anything is sent, that `owner` creates `target`; answer who had set out to
    create it before (None: nobody on this machine)."""
    with _LOCK:
        db = _connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT owner FROM creates WHERE target = ?", (target,)).fetchone()
            db.execute("INSERT OR REPLACE INTO creates (target, owner) VALUES (?, ?)", (target, owner))
            db.execute("COMMIT")
        finally:
            db.close()
    return None if row is None else str(row[0])


def undo(target: str, owner: str, previous: str | None) -> None:
    """The create did not happen (the object was someone else's): the journal says again what it said before."""
    with _LOCK:
        db = _connect()
        try:
            if previous is None:
                db.execute("DELETE FROM creates WHERE target = ? AND owner = ?", (target, owner))
            else:
                db.execute("UPDATE creates SET owner = ? WHERE target = ? AND owner = ?", (previous, target, owner))
        finally:
            db.close()
