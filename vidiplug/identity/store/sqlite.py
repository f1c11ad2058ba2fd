"""SqliteStore: the identity store in one SQLite file, the embedded default for a single host.

Stores written by older vidiplug versions are migrated when opened. Imports engine and identity types only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vidiplug.errors import StoreError
from vidiplug.identity.store.sql import DbRow, Run, SqlStore

SCHEMA_VERSION = 2
"""1: identities and vectors. 2: ``identities.imported_at`` (None while an unknown's item is pending)."""
SCHEMA = """
CREATE TABLE IF NOT EXISTS identities (
    id TEXT PRIMARY KEY,
    name TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('known', 'unknown')),
    suppressed INTEGER NOT NULL DEFAULT 0,
    thumbnail BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    imported_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS identities_known_name ON identities (name) WHERE kind = 'known';
CREATE TABLE IF NOT EXISTS vectors (
    id INTEGER PRIMARY KEY,
    identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    quality REAL NOT NULL,
    source TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS vectors_space ON vectors (engine, model, version);
CREATE INDEX IF NOT EXISTS vectors_identity ON vectors (identity_id);
CREATE INDEX IF NOT EXISTS vectors_source ON vectors (source);
CREATE TABLE IF NOT EXISTS vidiplug_item_sightings (
    fingerprint TEXT PRIMARY KEY,
    item_id TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vidiplug_relabel_requests (
    item_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    asked_by TEXT NOT NULL,
    asked_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vidiplug_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vidiplug_work_claims (
    key TEXT PRIMARY KEY,
    instance TEXT NOT NULL,
    claimed_at REAL NOT NULL,
    renewed_at REAL NOT NULL,
    attempts INTEGER NOT NULL
);
"""


class SqliteStore(SqlStore):
    """The identity store in the SQLite file ``path`` (created on first use; safe across threads and processes).

    Writers take SQLite's write lock (``BEGIN IMMEDIATE``) for each transaction, which is
    what makes find-or-create atomic between processes sharing the file. Use as a context
    manager or call ``close()``. Raises StoreError for unreadable files.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.where = str(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=30.0, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path}: store schema {version} is newer than this vidiplug ({SCHEMA_VERSION})")
            self._db.executescript(SCHEMA)
            self._migrate()
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable identity store ({exc})") from exc
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create the identity store ({exc.strerror or exc})") from exc

    def _migrate(self) -> None:
        """Bring a store written by an older vidiplug up to SCHEMA_VERSION (in one transaction).

        Schema 1 had no ``imported_at``: its unknowns start pending, so the next analysis
        that finds one imports it unless an item carries it already (the analyze callback
        skips those), and UnknownsWatch confirms those with an item at its next look.
        """
        self._db.execute("BEGIN IMMEDIATE")  # another process may be migrating the same file
        try:
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(identities)")}
            if "imported_at" not in columns:
                self._db.execute("ALTER TABLE identities ADD COLUMN imported_at TEXT")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[DbRow]:
        with self._lock:
            try:
                cursor = self._db.execute(sql, params)
                cursor.row_factory = sqlite3.Row
                return cursor.fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[Run]:
        def run(sql: str, params: Sequence[object]) -> list[DbRow]:
            cursor = self._db.execute(sql, params)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()

        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield run
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreError(f"{self.path}: {exc}") from exc
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _vector_param(self, vector: NDArray[np.float32]) -> object:
        return np.asarray(vector, np.float32).tobytes()

    def _vector_value(self, value: object) -> NDArray[np.float32]:
        return np.frombuffer(value, dtype=np.float32)  # type: ignore[call-overload, no-any-return]
