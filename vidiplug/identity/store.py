"""IdentityStore: named people, unknown fingerprints and their vectors in one SQLite file.

Every vector is stamped with the engine, model and version that made it; a gallery is
only ever built from one vector space. All SQL is parameterised. Imports engine types only.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Iterable, Iterator, Sequence

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.base import EngineInfo
from vidiplug.errors import StoreError
from vidiplug.identity.gallery import Gallery, Identity, IdentityKind

SCHEMA_VERSION = 2
"""1: identities and vectors. 2: ``identities.imported_at`` (None while an unknown's item is pending)."""
MAX_NAME_CHARS = 256
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
"""


@dataclass(frozen=True)
class IdentitySummary:
    """An identity with how many vectors it holds per engine (``EngineInfo.key`` → count)."""

    identity: Identity
    vector_counts: dict[str, int]
    has_thumbnail: bool
    created_at: str


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def clean_name(name: str) -> str:
    """``name`` stripped; StoreError when empty, too long or holding control characters."""
    text = name.strip()
    if not text:
        raise StoreError("a person's name must not be empty")
    if len(text) > MAX_NAME_CHARS:
        raise StoreError(f"a person's name must be at most {MAX_NAME_CHARS} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise StoreError(f"name {text!r} holds control characters")
    return text


class IdentityStore:
    """The local identity store at ``path`` (created on first use; safe across threads).

    Use as a context manager or call ``close()``. Raises StoreError for unreadable files,
    unknown ids and bad names.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
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
        self._lock = threading.RLock()

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

    def __enter__(self) -> IdentityStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                cursor = self._db.execute(sql, params)
                cursor.row_factory = sqlite3.Row
                return cursor.fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: {exc}") from exc

    def _write(self, statements: Sequence[tuple[str, Sequence[object]]]) -> None:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for sql, params in statements:
                    self._db.execute(sql, params)
                self._db.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                self._db.execute("ROLLBACK")
                raise StoreError(f"{self.path}: {exc}") from exc
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreError(f"{self.path}: {exc}") from exc

    # -- identities ---------------------------------------------------------------

    def get(self, identity_id: str) -> Identity:
        """The identity with ``identity_id``; StoreError when there is none."""
        rows = self._rows("SELECT id, name, kind, suppressed FROM identities WHERE id = ?", (identity_id,))
        if not rows:
            raise StoreError(f"no identity {identity_id!r} in {self.path}")
        return _identity(rows[0])

    def find_by_name(self, name: str) -> Identity | None:
        """The known person called ``name``, or None."""
        rows = self._rows("SELECT id, name, kind, suppressed FROM identities WHERE kind = 'known' AND name = ?", (name,))
        return _identity(rows[0]) if rows else None

    def person(self, name: str) -> Identity:
        """The known person called ``name``, created when absent."""
        name = clean_name(name)
        found = self.find_by_name(name)
        if found is not None:
            return found
        identity = Identity(str(uuid.uuid4()), name, IdentityKind.KNOWN)
        now = _now()
        self._write([(
            "INSERT INTO identities (id, name, kind, suppressed, created_at, updated_at) VALUES (?, ?, 'known', 0, ?, ?)",
            (identity.id, name, now, now),
        )])
        return identity

    def create_unknown(
        self,
        info: EngineInfo,
        vectors: NDArray[np.float32],
        qualities: Sequence[float],
        thumbnail_jpeg: bytes | None,
        identity_id: str | None = None,
    ) -> Identity:
        """Store a new unknown fingerprint with its representative vectors and thumbnail."""
        identity = Identity(identity_id or str(uuid.uuid4()), None, IdentityKind.UNKNOWN)
        now = _now()
        statements: list[tuple[str, Sequence[object]]] = [(
            "INSERT INTO identities (id, name, kind, suppressed, thumbnail, created_at, updated_at)"
            " VALUES (?, NULL, 'unknown', 0, ?, ?, ?)",
            (identity.id, thumbnail_jpeg, now, now),
        )]
        statements += self._vector_rows(identity.id, info, vectors, qualities, None)
        self._write(statements)
        return identity

    def add_vectors(
        self,
        identity_id: str,
        info: EngineInfo,
        vectors: NDArray[np.float32],
        qualities: Sequence[float],
        source: str | None = None,
        keep_best: int | None = None,
    ) -> None:
        """Add vectors of ``info``'s space to an identity.

        ``source`` labels where they came from (an image path or item id) so a re-run can
        skip sources already embedded; ``keep_best`` caps the identity's vectors in this
        space at that many, keeping the highest quality ones.
        """
        self.get(identity_id)
        statements = self._vector_rows(identity_id, info, vectors, qualities, source)
        statements.append(("UPDATE identities SET updated_at = ? WHERE id = ?", (_now(), identity_id)))
        if keep_best is not None:
            statements.append((
                "DELETE FROM vectors WHERE identity_id = ? AND engine = ? AND model = ? AND version = ? AND id NOT IN"
                " (SELECT id FROM vectors WHERE identity_id = ? AND engine = ? AND model = ? AND version = ?"
                "  ORDER BY quality DESC, id LIMIT ?)",
                (identity_id, info.name, info.model, info.version,
                 identity_id, info.name, info.model, info.version, int(keep_best)),
            ))
        self._write(statements)

    def _vector_rows(
        self, identity_id: str, info: EngineInfo, vectors: NDArray[np.float32], qualities: Sequence[float], source: str | None
    ) -> list[tuple[str, Sequence[object]]]:
        rows = np.asarray(vectors, np.float32).reshape(-1, info.dim)
        if len(qualities) != rows.shape[0]:
            raise StoreError("one quality value is needed per vector")
        now = _now()
        return [
            (
                "INSERT INTO vectors (identity_id, engine, model, version, dim, vector, quality, source, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (identity_id, info.name, info.model, info.version, info.dim, row.tobytes(), float(q), source, now),
            )
            for row, q in zip(rows, qualities)
        ]

    def has_source(self, info: EngineInfo, source: str) -> bool:
        """True when vectors of ``info``'s space from ``source`` are already stored."""
        return bool(self._rows(
            "SELECT 1 FROM vectors WHERE engine = ? AND model = ? AND version = ? AND source = ? LIMIT 1",
            (info.name, info.model, info.version, source),
        ))

    def source_owner(self, info: EngineInfo, source: str) -> str | None:
        """Id of the identity holding vectors of ``info``'s space from ``source``, or None."""
        rows = self._rows(
            "SELECT identity_id FROM vectors WHERE engine = ? AND model = ? AND version = ? AND source = ? LIMIT 1",
            (info.name, info.model, info.version, source),
        )
        return str(rows[0]["identity_id"]) if rows else None

    def move_source(self, source: str, identity_id: str) -> None:
        """Give every vector from ``source`` to ``identity_id`` (a training image was renamed)."""
        self.get(identity_id)
        self._write([("UPDATE vectors SET identity_id = ? WHERE source = ?", (identity_id, source))])

    def remove_sources(self, prefix: str, keep: set[str]) -> int:
        """Delete vectors whose source starts with ``prefix`` and is not in ``keep``; returns how many."""
        rows = self._rows("SELECT DISTINCT source FROM vectors WHERE source LIKE ? ESCAPE '\\'", (_like_prefix(prefix),))
        gone = [row["source"] for row in rows if row["source"] not in keep]
        self._write([("DELETE FROM vectors WHERE source = ?", (source,)) for source in gone])
        return len(gone)

    def rename(self, identity_id: str, name: str) -> Identity:
        """Name an identity. An unknown becomes known; if that name is taken, the two are merged.

        Returns the surviving identity (the existing person when merged). The fingerprint
        of a merged unknown is kept as a suppressed alias so it is never re-created.
        """
        name = clean_name(name)
        current = self.get(identity_id)
        existing = self.find_by_name(name)
        if existing is not None and existing.id != identity_id:
            self.merge(identity_id, existing.id)
            return existing
        self._write([(
            "UPDATE identities SET name = ?, kind = 'known', updated_at = ? WHERE id = ?", (name, _now(), current.id)
        )])
        return self.get(identity_id)

    def merge(self, source_id: str, target_id: str) -> None:
        """Move every vector of ``source_id`` to ``target_id`` and remove the source identity."""
        self.get(source_id)
        self.get(target_id)
        if source_id == target_id:
            return
        self._write([
            ("UPDATE vectors SET identity_id = ? WHERE identity_id = ?", (target_id, source_id)),
            ("DELETE FROM identities WHERE id = ?", (source_id,)),
            ("UPDATE identities SET updated_at = ? WHERE id = ?", (_now(), target_id)),
        ])

    def set_suppressed(self, identity_id: str, suppressed: bool = True) -> None:
        """Mark an identity suppressed (matched, never reported) or lift the mark."""
        self.get(identity_id)
        self._write([(
            "UPDATE identities SET suppressed = ?, updated_at = ? WHERE id = ?", (int(suppressed), _now(), identity_id)
        )])

    def remove(self, identity_id: str) -> None:
        """Delete an identity and all its vectors."""
        self.get(identity_id)
        self._write([("DELETE FROM identities WHERE id = ?", (identity_id,))])

    def thumbnail(self, identity_id: str) -> bytes | None:
        """The stored JPEG thumbnail of an identity, or None."""
        rows = self._rows("SELECT thumbnail FROM identities WHERE id = ?", (identity_id,))
        if not rows:
            raise StoreError(f"no identity {identity_id!r} in {self.path}")
        value = rows[0]["thumbnail"]
        return bytes(value) if value is not None else None

    def count(self) -> int:
        """How many identities the store holds; one cheap query, so it also proves the store is readable.

        Raises StoreError when the database cannot be read.
        """
        return int(self._rows("SELECT count(*) AS n FROM identities")[0]["n"])

    def summaries(self) -> list[IdentitySummary]:
        """Every identity with its vector counts, known people first, by name."""
        counts: dict[str, dict[str, int]] = {}
        for row in self._rows(
            "SELECT identity_id, engine, model, version, COUNT(*) AS n FROM vectors GROUP BY identity_id, engine, model, version"
        ):
            key = f"{row['engine']}/{row['model']}@{row['version']}"
            counts.setdefault(row["identity_id"], {})[key] = int(row["n"])
        rows = self._rows(
            "SELECT id, name, kind, suppressed, thumbnail IS NOT NULL AS has_thumb, created_at FROM identities"
            " ORDER BY kind, name, created_at"
        )
        return [
            IdentitySummary(_identity(row), counts.get(row["id"], {}), bool(row["has_thumb"]), row["created_at"])
            for row in rows
        ]

    def load_gallery(self, info: EngineInfo, include_unknown: bool = True) -> Gallery:
        """A Gallery of every identity's vectors made by exactly ``info``'s engine/model/version."""
        gallery = Gallery(info)
        index: dict[str, int] = {}
        vectors: list[NDArray[np.float32]] = []
        owners: list[int] = []
        for row in self._rows(
            "SELECT i.id, i.name, i.kind, i.suppressed, v.vector, v.dim FROM vectors v JOIN identities i ON i.id = v.identity_id"
            " WHERE v.engine = ? AND v.model = ? AND v.version = ? ORDER BY i.id, v.id",
            (info.name, info.model, info.version),
        ):
            if row["kind"] == "unknown" and not include_unknown:
                continue
            if row["dim"] != info.dim:
                raise StoreError(f"{self.path}: vector of {row['id']} has dim {row['dim']}, expected {info.dim}")
            if row["id"] not in index:
                index[row["id"]] = len(gallery.identities)
                gallery.identities.append(_identity(row))
            vectors.append(np.frombuffer(row["vector"], dtype=np.float32))
            owners.append(index[row["id"]])
        if vectors:
            gallery.vectors = np.stack(vectors).astype(np.float32)
            gallery.owners = np.asarray(owners, np.int64)
        return gallery

    # -- items in VidiCore ------------------------------------------------------------

    def mark_imported(self, identity_ids: Iterable[str]) -> int:
        """Record that VidiCore holds an item for each of ``identity_ids`` (ids not stored are skipped).

        An unknown fingerprint is *pending* from its creation until this is called for it:
        only then can a missing item mean that an operator deleted it. Returns how many
        identities changed from pending to imported.
        """
        now = _now()
        wanted = sorted(set(identity_ids) & self.pending_unknowns())
        if not wanted:
            return 0
        self._write([("UPDATE identities SET imported_at = ? WHERE id = ? AND imported_at IS NULL", (now, identity_id))
                     for identity_id in wanted])
        return len(wanted)

    def pending_unknowns(self) -> set[str]:
        """Ids of the unknown fingerprints whose item VidiCore has not confirmed yet (see mark_imported)."""
        rows = self._rows("SELECT id FROM identities WHERE kind = 'unknown' AND imported_at IS NULL")
        return {str(row["id"]) for row in rows}

    def iter_identities(self) -> Iterator[Identity]:
        """Every identity in the store."""
        for row in self._rows("SELECT id, name, kind, suppressed FROM identities ORDER BY created_at"):
            yield _identity(row)


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _identity(row: sqlite3.Row) -> Identity:
    return Identity(row["id"], row["name"], IdentityKind(row["kind"]), bool(row["suppressed"]))
