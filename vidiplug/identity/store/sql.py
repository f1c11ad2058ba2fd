"""SqlStore: the identity store's queries, shared by the SQLite and PostgreSQL backends.

Queries use ``?`` placeholders (the PostgreSQL backend translates them); identifiers come
only from the fixed TABLES allow-list. Imports engine and identity types only.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.base import EngineInfo
from vidiplug.errors import StoreError
from vidiplug.identity.gallery import Gallery, Identity, IdentityKind
from vidiplug.identity.store.protocol import TABLES, IdentitySummary, Row, WorkClaim, clean_name

DbRow = Mapping[str, Any]
Run = Callable[[str, Sequence[object]], list[DbRow]]
"""Runs one statement inside an open transaction; the rows it returned (none for writes)."""
Statement = tuple[str, Sequence[object]]


def now_text() -> str:
    """The current UTC time as the store writes it (ISO 8601, seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class SqlStore:
    """The IdentityStore methods over a backend's ``_rows`` and ``_transaction`` (see SqliteStore, PostgresStore)."""

    where: str = ""
    vector_in = "?"
    """SQL for a vector parameter in an INSERT."""
    vector_out = "v.vector"
    """SQL reading ``v.vector`` as a value ``_vector_value`` takes."""
    clock = "(julianday('now') - 2440587.5) * 86400.0"
    """SQL for the database's current time in seconds since 1970, aging work claims (SQLite's; PostgresStore's own)."""

    def __init__(self) -> None:
        # One connection per store object, shared by the service's threads: one statement or
        # transaction at a time on it. Instances and hosts coordinate through the database.
        self._lock = threading.RLock()

    # -- backend hooks
    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[DbRow]:
        raise NotImplementedError

    def _transaction(self) -> AbstractContextManager[Run]:
        """A write transaction (committed on leaving, rolled back on an error) and its statement runner."""
        raise NotImplementedError

    def _vector_param(self, vector: NDArray[np.float32]) -> object:
        raise NotImplementedError

    def _vector_value(self, value: object) -> NDArray[np.float32]:
        raise NotImplementedError

    def _lock_unknowns(self, run: Run, info: EngineInfo) -> None:
        """Hold, until the transaction ends, the lock that serialises creating unknowns of ``info``'s space."""

    def _unknown_means(self, run: Run, info: EngineInfo) -> list[tuple[str, NDArray[np.float32]]]:
        """Each unsuppressed unknown of ``info``'s space with the mean of its vectors there."""
        rows = run(
            f"SELECT i.id, {self.vector_out} AS vector FROM vectors v JOIN identities i ON i.id = v.identity_id"
            " WHERE i.kind = 'unknown' AND i.suppressed = 0 AND v.engine = ? AND v.model = ? AND v.version = ?"
            " ORDER BY i.id, v.id",
            (info.name, info.model, info.version),
        )
        grouped: dict[str, list[NDArray[np.float32]]] = {}
        for row in rows:
            grouped.setdefault(str(row["id"]), []).append(self._vector_value(row["vector"]))
        return [(ident, np.mean(np.stack(found), axis=0)) for ident, found in grouped.items()]

    def close(self) -> None:
        """Release the connection."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _write(self, statements: Sequence[Statement]) -> None:
        if not statements:
            return
        with self._transaction() as run:
            for sql, params in statements:
                run(sql, params)

    # -- identities
    def get(self, identity_id: str) -> Identity:
        """The identity with ``identity_id``; StoreError when there is none."""
        rows = self._rows("SELECT id, name, kind, suppressed FROM identities WHERE id = ?", (identity_id,))
        if not rows:
            raise StoreError(f"no identity {identity_id!r} in {self.where}")
        return _identity(rows[0])

    def find_by_name(self, name: str) -> Identity | None:
        """The known person called ``name``, or None."""
        rows = self._rows("SELECT id, name, kind, suppressed FROM identities WHERE kind = 'known' AND name = ?",
                          (name,))
        return _identity(rows[0]) if rows else None

    def person(self, name: str) -> Identity:
        """The known person called ``name``, created when absent (the unique name index decides races)."""
        name = clean_name(name)
        found = self.find_by_name(name)
        if found is not None:
            return found
        now = now_text()
        self._write([(
            ("INSERT INTO identities (id, name, kind, suppressed, created_at, updated_at)"
            " VALUES (?, ?, 'known', 0, ?, ?)"
            " ON CONFLICT (name) WHERE kind = 'known' DO NOTHING"),
            (str(uuid.uuid4()), name, now, now),
        )])
        created = self.find_by_name(name)
        if created is None:
            raise StoreError(f"{self.where}: person {name!r} vanished while being created")
        return created

    def create_unknown(self, info: EngineInfo, vectors: NDArray[np.float32], qualities: Sequence[float],
                       thumbnail_jpeg: bytes | None, identity_id: str | None = None, *,
                       join_similarity: float | None = None, exclude: Collection[str] = (),
                       keep_best: int | None = None) -> Identity:
        """Store a new unknown fingerprint, or join the stored one it duplicates (see IdentityStore)."""
        identity = Identity(identity_id or str(uuid.uuid4()), None, IdentityKind.UNKNOWN)
        rows = np.asarray(vectors, np.float32).reshape(-1, info.dim)
        with self._transaction() as run:
            self._lock_unknowns(run, info)
            if join_similarity is not None and len(rows):
                twin = self._closest_unknown(run, info, rows.mean(axis=0), set(exclude), join_similarity)
                if twin is not None:
                    for sql, params in self._add_rows(twin, info, rows, qualities, None, keep_best):
                        run(sql, params)
                    return Identity(twin, None, IdentityKind.UNKNOWN)
            now = now_text()
            run("INSERT INTO identities (id, name, kind, suppressed, thumbnail, created_at, updated_at)"
                " VALUES (?, NULL, 'unknown', 0, ?, ?, ?)", (identity.id, thumbnail_jpeg, now, now))
            for sql, params in self._vector_rows(identity.id, info, rows, qualities, None):
                run(sql, params)
        return identity

    def _closest_unknown(self, run: Run, info: EngineInfo, probe: NDArray[np.float32], exclude: set[str],
                         least: float) -> str | None:
        """The unknown whose mean vector has the highest dot product (average cosine) with ``probe``, if >= least."""
        best, best_similarity = None, least
        for ident, mean in self._unknown_means(run, info):
            similarity = float(mean @ probe)
            if ident not in exclude and similarity >= best_similarity:
                best, best_similarity = ident, similarity
        return best

    def add_vectors(self, identity_id: str, info: EngineInfo, vectors: NDArray[np.float32],
                    qualities: Sequence[float], source: str | None = None, keep_best: int | None = None) -> None:
        """Add vectors of ``info``'s space to an identity.

        ``source`` labels where they came from (an image path or item id) so a re-run can
        skip sources already embedded; ``keep_best`` caps the identity's vectors in this
        space at that many, keeping the highest quality ones.
        """
        self.get(identity_id)
        rows = np.asarray(vectors, np.float32).reshape(-1, info.dim)
        self._write(self._add_rows(identity_id, info, rows, qualities, source, keep_best))

    def _add_rows(self, identity_id: str, info: EngineInfo, rows: NDArray[np.float32], qualities: Sequence[float],
                  source: str | None, keep_best: int | None) -> list[Statement]:
        statements = self._vector_rows(identity_id, info, rows, qualities, source)
        statements.append(("UPDATE identities SET updated_at = ? WHERE id = ?", (now_text(), identity_id)))
        if keep_best is not None:
            statements.append((
                ("DELETE FROM vectors WHERE identity_id = ? AND engine = ? AND model = ? AND version = ? AND id NOT IN"
                " (SELECT id FROM vectors WHERE identity_id = ? AND engine = ? AND model = ? AND version = ?"
                "  ORDER BY quality DESC, id LIMIT ?)"),
                (identity_id, info.name, info.model, info.version,
                 identity_id, info.name, info.model, info.version, int(keep_best)),
            ))
        return statements

    def _vector_rows(self, identity_id: str, info: EngineInfo, rows: NDArray[np.float32], qualities: Sequence[float],
                     source: str | None) -> list[Statement]:
        if len(qualities) != rows.shape[0]:
            raise StoreError("one quality value is needed per vector")
        now = now_text()
        return [
            (
                ("INSERT INTO vectors (identity_id, engine, model, version, dim, vector, quality, source, created_at)"
                f" VALUES (?, ?, ?, ?, ?, {self.vector_in}, ?, ?, ?)"),
                (identity_id, info.name, info.model, info.version, info.dim, self._vector_param(row), float(q),
                 source, now),
            )
            for row, q in zip(rows, qualities)
        ]

    def has_source(self, info: EngineInfo, source: str) -> bool:
        """True when vectors of ``info``'s space from ``source`` are already stored."""
        return self.source_owner(info, source) is not None

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
        rows = self._rows("SELECT DISTINCT source FROM vectors WHERE source LIKE ? ESCAPE '\\'",
                          (_like_prefix(prefix),))
        gone = [row["source"] for row in rows if row["source"] not in keep]
        self._write([("DELETE FROM vectors WHERE source = ?", (source,)) for source in gone])
        return len(gone)

    def rename(self, identity_id: str, name: str) -> Identity:
        """Name an identity. An unknown becomes known; if that name is taken, the two are merged.

        Returns the surviving identity (the existing person when merged).
        """
        name = clean_name(name)
        current = self.get(identity_id)
        existing = self.find_by_name(name)
        if existing is not None and existing.id != identity_id:
            self.merge(identity_id, existing.id)
            return existing
        self._write([(
            "UPDATE identities SET name = ?, kind = 'known', updated_at = ? WHERE id = ?",
            (name, now_text(), current.id),
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
            ("UPDATE identities SET updated_at = ? WHERE id = ?", (now_text(), target_id)),
        ])

    def set_suppressed(self, identity_id: str, suppressed: bool = True) -> None:
        """Mark an identity suppressed (matched, never reported) or lift the mark."""
        self.get(identity_id)
        self._write([(
            "UPDATE identities SET suppressed = ?, updated_at = ? WHERE id = ?",
            (int(suppressed), now_text(), identity_id),
        )])

    def remove(self, identity_id: str) -> None:
        """Delete an identity and all its vectors."""
        self.get(identity_id)
        self._write([("DELETE FROM identities WHERE id = ?", (identity_id,))])

    def thumbnail(self, identity_id: str) -> bytes | None:
        """The stored JPEG thumbnail of an identity, or None."""
        rows = self._rows("SELECT thumbnail FROM identities WHERE id = ?", (identity_id,))
        if not rows:
            raise StoreError(f"no identity {identity_id!r} in {self.where}")
        value = rows[0]["thumbnail"]
        return bytes(value) if value is not None else None

    def count(self) -> int:
        """How many identities the store holds; one cheap query, so it also proves the store is readable."""
        return int(self._rows("SELECT count(*) AS n FROM identities")[0]["n"])

    def summaries(self) -> list[IdentitySummary]:
        """Every identity with its vector counts, known people first, by name."""
        counts: dict[str, dict[str, int]] = {}
        for row in self._rows(
            "SELECT identity_id, engine, model, version, COUNT(*) AS n FROM vectors"
            " GROUP BY identity_id, engine, model, version"
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
            f"SELECT i.id, i.name, i.kind, i.suppressed, {self.vector_out} AS vector, v.dim"
            " FROM vectors v JOIN identities i ON i.id = v.identity_id"
            " WHERE v.engine = ? AND v.model = ? AND v.version = ? ORDER BY i.id, v.id",
            (info.name, info.model, info.version),
        ):
            if row["kind"] == "unknown" and not include_unknown:
                continue
            if row["dim"] != info.dim:
                raise StoreError(f"{self.where}: vector of {row['id']} has dim {row['dim']}, expected {info.dim}")
            if row["id"] not in index:
                index[row["id"]] = len(gallery.identities)
                gallery.identities.append(_identity(row))
            vectors.append(self._vector_value(row["vector"]))
            owners.append(index[row["id"]])
        if vectors:
            gallery.vectors = np.stack(vectors).astype(np.float32)
            gallery.owners = np.asarray(owners, np.int64)
        return gallery

    def iter_identities(self) -> Iterator[Identity]:
        """Every identity in the store."""
        for row in self._rows("SELECT id, name, kind, suppressed FROM identities ORDER BY created_at, id"):
            yield _identity(row)

    # -- items in VidiCore
    def mark_imported(self, identity_ids: Iterable[str]) -> int:
        """Record that VidiCore holds an item for each of ``identity_ids`` (ids not stored are skipped).

        An unknown fingerprint is *pending* from its creation until this is called for it:
        only then can a missing item mean that an operator deleted it. Returns how many
        identities changed from pending to imported.
        """
        now = now_text()
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

    def item_sightings(self) -> dict[str, str]:
        """Every fingerprint seen with an item, and that item's id."""
        rows = self._rows("SELECT fingerprint, item_id FROM vidiplug_item_sightings")
        return {str(row["fingerprint"]): str(row["item_id"]) for row in rows}

    def record_item_sightings(self, items: Mapping[str, str]) -> None:
        """Note that each fingerprint of ``items`` has the item it maps to (now)."""
        now = now_text()
        self._write([(
            ("INSERT INTO vidiplug_item_sightings (fingerprint, item_id, first_seen_at, last_seen_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (fingerprint) DO UPDATE SET item_id = excluded.item_id,"
            " last_seen_at = excluded.last_seen_at"),
            (fingerprint, item_id, now, now),
        ) for fingerprint, item_id in items.items()])

    def forget_item_sightings(self, fingerprints: Iterable[str]) -> None:
        """Stop tracking ``fingerprints`` (suppressed, named, or merged away: nothing left to notice)."""
        self._write([("DELETE FROM vidiplug_item_sightings WHERE fingerprint = ?", (fp,)) for fp in fingerprints])

    def relabel_requests(self) -> dict[str, str]:
        """Every item a name was asked for, and that name."""
        rows = self._rows("SELECT item_id, name FROM vidiplug_relabel_requests")
        return {str(row["item_id"]): str(row["name"]) for row in rows}

    def claim_relabel(self, item_id: str, name: str, instance: str) -> bool:
        """Record that ``instance`` asks for ``name`` on ``item_id``; False when that was asked for already.

        One statement: an upsert that changes the row only when the name differs, so of
        several callers claiming the same item and name exactly one sees its row written.
        """
        with self._transaction() as run:
            written = run(
                "INSERT INTO vidiplug_relabel_requests (item_id, name, asked_by, asked_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (item_id) DO UPDATE SET name = excluded.name, asked_by = excluded.asked_by,"
                " asked_at = excluded.asked_at WHERE vidiplug_relabel_requests.name <> excluded.name"
                " RETURNING item_id",
                (item_id, name, instance, now_text()),
            )
        return bool(written)

    def release_relabel(self, item_id: str, name: str) -> None:
        """Forget a claim whose job could not be started, so the name is asked for again later."""
        self._write([("DELETE FROM vidiplug_relabel_requests WHERE item_id = ? AND name = ?", (item_id, name))])

    # -- work claims
    def claim_work(self, key: str, instance: str, stale_after_s: float) -> WorkClaim | None:
        """Take the unit of work ``key`` for ``instance``; None when another live instance holds it.

        Free, stale (last renewed ``stale_after_s`` seconds ago or more, by the database's
        clock) or held by ``instance`` itself: the claim is taken and ``attempts`` counts it.
        The row read is replaced only while it is still the row judged (same holder,
        attempts and renewal, and still stale or ours), and a free key is taken by an
        insert the primary key lets only one claimer make: of concurrent claimers on any
        backend exactly one wins, the others get None.
        """
        with self._transaction() as run:
            rows = run("SELECT instance, attempts, renewed_at FROM vidiplug_work_claims WHERE key = ?", (key,))
            if not rows:
                taken = run(
                    "INSERT INTO vidiplug_work_claims (key, instance, claimed_at, renewed_at, attempts)"
                    f" VALUES (?, ?, {self.clock}, {self.clock}, 1) ON CONFLICT (key) DO NOTHING RETURNING attempts",
                    (key, instance),
                )
                return WorkClaim(key, instance, 1, None) if taken else None
            holder, attempts, renewed_at = str(rows[0]["instance"]), int(rows[0]["attempts"]), rows[0]["renewed_at"]
            taken = run(
                f"UPDATE vidiplug_work_claims SET instance = ?, claimed_at = {self.clock}, renewed_at = {self.clock},"
                " attempts = attempts + 1 WHERE key = ? AND instance = ? AND attempts = ? AND renewed_at = ?"
                f" AND (instance = ? OR {self.clock} - renewed_at >= ?) RETURNING attempts",
                (instance, key, holder, attempts, renewed_at, instance, float(stale_after_s)),
            )
        if not taken:
            return None
        return WorkClaim(key, instance, int(taken[0]["attempts"]), None if holder == instance else holder)

    def renew_work(self, key: str, instance: str) -> bool:
        """Mark ``instance``'s claim on ``key`` live again (the database's now); False when it no longer holds it."""
        with self._transaction() as run:
            renewed = run(f"UPDATE vidiplug_work_claims SET renewed_at = {self.clock} WHERE key = ? AND instance = ?"
                          " RETURNING key", (key, instance))
        return bool(renewed)

    def release_work(self, key: str, instance: str) -> bool:
        """Drop ``instance``'s claim on ``key``; True if it held one (another holder's claim is left alone)."""
        with self._transaction() as run:
            gone = run("DELETE FROM vidiplug_work_claims WHERE key = ? AND instance = ? RETURNING key", (key, instance))
        return bool(gone)

    def work_claims(self, prefix: str = "") -> list[WorkClaim]:
        """Every current claim whose key starts with ``prefix`` (no wildcards, case counts), by key (code points).

        ``previous_instance`` is None in this listing: only a takeover's own result names it.
        """
        rows = self._rows("SELECT key, instance, attempts FROM vidiplug_work_claims WHERE key LIKE ? ESCAPE '\\'",
                          (_like_prefix(prefix),))
        # SQLite's LIKE ignores ASCII case, and databases sort by their collation: Python does both exactly.
        return sorted((WorkClaim(str(row["key"]), str(row["instance"]), int(row["attempts"]), None)
                       for row in rows if str(row["key"]).startswith(prefix)), key=lambda claim: claim.key)

    # -- small documents of the service
    def load_state(self, key: str) -> str | None:
        """The text saved under ``key``, or None."""
        rows = self._rows("SELECT value FROM vidiplug_state WHERE key = ?", (key,))
        return str(rows[0]["value"]) if rows else None

    def save_state(self, key: str, value: str) -> None:
        """Save ``value`` under ``key`` (replacing what was there)."""
        self._write([(
            ("INSERT INTO vidiplug_state (key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"),
            (key, value, now_text()),
        )])

    # -- copying between stores
    def table_rows(self, table: str) -> list[Row]:
        """Every row of ``table`` (a key of TABLES), vectors as float32 arrays, thumbnails as bytes."""
        columns = _columns(table)
        shown = ", ".join(f"{self.vector_out} AS vector" if c == "vector" else c for c in columns)
        rows = self._rows(f"SELECT {shown} FROM {table} v")
        return [{c: self._copied_value(c, row[c]) for c in columns} for row in rows]

    def _copied_value(self, column: str, value: object) -> object:
        if column == "vector":
            return self._vector_value(value)
        if column == "thumbnail" and isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        return value

    def insert_rows(self, table: str, rows: Sequence[Row]) -> int:
        """Insert rows read by ``table_rows`` in one transaction; returns how many."""
        columns = _columns(table)
        marks = ", ".join(self.vector_in if c == "vector" else "?" for c in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        self._write([(sql, [self._vector_param(row[c]) if c == "vector" else row[c]  # type: ignore[arg-type]
                            for c in columns]) for row in rows])
        return len(rows)


def _columns(table: str) -> tuple[str, ...]:
    try:
        return TABLES[table]
    except KeyError:
        raise StoreError(f"no table {table!r} in an identity store") from None


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _identity(row: DbRow) -> Identity:
    return Identity(row["id"], row["name"], IdentityKind(row["kind"]), bool(row["suppressed"]))
