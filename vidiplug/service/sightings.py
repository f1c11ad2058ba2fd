"""Sightings: which unknown fingerprints have had an item in VidiCore, kept beside the identity store.

A fingerprint is created in the store during an analysis, but its item only once that
job's callback ran; only a fingerprint seen with an item once can have lost it. The
table lives in the identity store's SQLite file (its own table, its own connection), so
it is backed up and reset together with the fingerprints it describes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Self

from vidiplug.errors import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS vidiplug_item_sightings (
    fingerprint TEXT PRIMARY KEY,
    item_id TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
"""


class Sightings:
    """Fingerprint -> the item last seen carrying it (``vcs_face_externalId``), in the SQLite file ``path``.

    Safe across threads; use as a context manager or call ``close()``. Raises StoreError
    when the file cannot be read or written.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=30.0, check_same_thread=False, isolation_level=None)
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot keep item sightings ({exc})") from exc

    def seen(self) -> dict[str, str]:
        """Every fingerprint seen with an item, and that item's id."""
        with self._lock:
            try:
                rows = self._db.execute("SELECT fingerprint, item_id FROM vidiplug_item_sightings").fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: {exc}") from exc
        return {str(fingerprint): str(item_id) for fingerprint, item_id in rows}

    def record(self, items: Mapping[str, str]) -> None:
        """Note that each fingerprint of ``items`` has the item it maps to (now)."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._write(
            "INSERT INTO vidiplug_item_sightings (fingerprint, item_id, first_seen_at, last_seen_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (fingerprint) DO UPDATE SET item_id = excluded.item_id,"
            " last_seen_at = excluded.last_seen_at",
            [(fingerprint, item_id, now, now) for fingerprint, item_id in items.items()],
        )

    def forget(self, fingerprints: Iterable[str]) -> None:
        """Stop tracking ``fingerprints`` (suppressed, named, or merged away: nothing left to notice)."""
        self._write("DELETE FROM vidiplug_item_sightings WHERE fingerprint = ?", [(fp,) for fp in fingerprints])

    def _write(self, sql: str, rows: list[tuple[str, ...]]) -> None:
        if not rows:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(sql, rows)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreError(f"{self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
