"""RelabelRequests: which name a relabel job was started for, per item, shared by every instance.

UnknownsWatch asks for a name once per item and name. The memory lives in the identity
store's SQLite file (its own table, its own connection), so instances sharing a store share
it: of two instances that notice one rename at the same moment, exactly one claims it and
starts the job, and a name that failed is not asked for again after a restart either.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Self

from vidiplug.errors import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS vidiplug_relabel_requests (
    item_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    asked_by TEXT NOT NULL,
    asked_at TEXT NOT NULL
);
"""


class RelabelRequests:
    """Item id -> the name last asked for, in the SQLite file ``path``; safe across threads and processes.

    Use as a context manager or call ``close()``. Raises StoreError when the file cannot be
    read or written.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=30.0, check_same_thread=False, isolation_level=None)
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot keep relabel requests ({exc})") from exc

    def asked(self) -> dict[str, str]:
        """Every item a name was asked for, and that name."""
        with self._lock:
            try:
                rows = self._db.execute("SELECT item_id, name FROM vidiplug_relabel_requests").fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: {exc}") from exc
        return {str(item_id): str(name) for item_id, name in rows}

    def claim(self, item_id: str, name: str, instance: str) -> bool:
        """Record that ``instance`` asks for ``name`` on ``item_id``; False when that was asked for already.

        Atomic across processes (one write transaction): of several callers claiming the same
        item and name, exactly one gets True and must start the relabel job.
        """
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                row = self._db.execute("SELECT name FROM vidiplug_relabel_requests WHERE item_id = ?",
                                       (item_id,)).fetchone()
                fresh = row is None or row[0] != name
                if fresh:
                    self._db.execute(
                        "INSERT INTO vidiplug_relabel_requests (item_id, name, asked_by, asked_at) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT (item_id) DO UPDATE SET name = excluded.name, asked_by = excluded.asked_by,"
                        " asked_at = excluded.asked_at",
                        (item_id, name, instance, now))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreError(f"{self.path}: {exc}") from exc
        return fresh

    def release(self, item_id: str, name: str) -> None:
        """Forget a claim whose job could not be started, so the name is asked for again later."""
        with self._lock:
            try:
                self._db.execute("DELETE FROM vidiplug_relabel_requests WHERE item_id = ? AND name = ?", (item_id, name))
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
