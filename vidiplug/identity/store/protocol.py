"""The identity store's seam: the IdentityStore Protocol every room uses, and the values it returns.

Two implementations: SqliteStore (one file, the default) and PostgresStore (several hosts).
Imports engine and identity types only.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.base import EngineInfo
from vidiplug.errors import StoreError
from vidiplug.identity.gallery import Gallery, Identity

MAX_NAME_CHARS = 256
TABLES: dict[str, tuple[str, ...]] = {
    "identities": ("id", "name", "kind", "suppressed", "thumbnail", "created_at", "updated_at", "imported_at"),
    "vectors": ("identity_id", "engine", "model", "version", "dim", "vector", "quality", "source", "created_at"),
    "vidiplug_item_sightings": ("fingerprint", "item_id", "first_seen_at", "last_seen_at"),
    "vidiplug_relabel_requests": ("item_id", "name", "asked_by", "asked_at"),
    "vidiplug_state": ("key", "value", "updated_at"),
    "vidiplug_work_claims": ("key", "instance", "claimed_at", "renewed_at", "attempts"),
}
"""Every table of a store and its columns, in copy order (the only identifiers SQL is built from)."""

Row = dict[str, object]
"""One table row for copying between stores: column → value; ``vector`` is a float32 array."""


@dataclass(frozen=True)
class IdentitySummary:
    """An identity with how many vectors it holds per engine (``EngineInfo.key`` → count)."""

    identity: Identity
    vector_counts: dict[str, int]
    has_thumbnail: bool
    created_at: str


@dataclass(frozen=True)
class WorkClaim:
    """Who runs the unit of work ``key``: ``instance``, on its ``attempts``-th claim of it.

    ``previous_instance`` names the holder a claim took the work over from (None for a first
    claim, a re-claim by the same instance, and in ``work_claims`` listings).
    """

    key: str
    instance: str
    attempts: int
    previous_instance: str | None


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


class IdentityStore(Protocol):
    """Named people, unknown fingerprints and their vectors, plus the service's shared memory.

    Every vector carries the EngineInfo that made it. Methods raise StoreError when the
    store cannot be read or written, for unknown ids and for bad names. Safe across threads.
    """

    where: str
    """The store's file or URL, without a password: for messages."""

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def close(self) -> None:
        """Release the connection."""

    # -- identities
    def get(self, identity_id: str) -> Identity:
        """The identity with ``identity_id``; StoreError when there is none."""

    def find_by_name(self, name: str) -> Identity | None:
        """The known person called ``name``, or None."""

    def person(self, name: str) -> Identity:
        """The known person called ``name``, created when absent (atomic: one person per name)."""

    def create_unknown(self, info: EngineInfo, vectors: NDArray[np.float32], qualities: Sequence[float],
                       thumbnail_jpeg: bytes | None, identity_id: str | None = None, *,
                       join_similarity: float | None = None, exclude: Collection[str] = (),
                       keep_best: int | None = None) -> Identity:
        """Store a new unknown fingerprint, or join the stored one it duplicates; returns the identity used.

        With ``join_similarity``, the vectors first look for a stored, unsuppressed unknown of
        ``info``'s space (not in ``exclude``: those the caller already judged) whose average
        cosine to them is at least ``join_similarity``; the closest one gets the vectors
        (capped at ``keep_best``) instead of a new fingerprint being made. Search and insert
        are one transaction under the database's own lock, so instances sharing the store
        that see one new person at once make exactly one fingerprint.
        """

    def add_vectors(self, identity_id: str, info: EngineInfo, vectors: NDArray[np.float32],
                    qualities: Sequence[float], source: str | None = None, keep_best: int | None = None) -> None:
        """Add vectors of ``info``'s space to an identity; ``source`` labels their origin,
        ``keep_best`` caps the identity's vectors in this space at the highest-quality ones."""

    def has_source(self, info: EngineInfo, source: str) -> bool:
        """True when vectors of ``info``'s space from ``source`` are already stored."""

    def source_owner(self, info: EngineInfo, source: str) -> str | None:
        """Id of the identity holding vectors of ``info``'s space from ``source``, or None."""

    def move_source(self, source: str, identity_id: str) -> None:
        """Give every vector from ``source`` to ``identity_id``."""

    def remove_sources(self, prefix: str, keep: set[str]) -> int:
        """Delete vectors whose source starts with ``prefix`` and is not in ``keep``; returns how many sources."""

    def rename(self, identity_id: str, name: str) -> Identity:
        """Name an identity (merging into the person of that name if there is one); the survivor."""

    def merge(self, source_id: str, target_id: str) -> None:
        """Move every vector of ``source_id`` to ``target_id`` and remove the source identity."""

    def set_suppressed(self, identity_id: str, suppressed: bool = True) -> None:
        """Mark an identity suppressed (matched, never reported) or lift the mark."""

    def remove(self, identity_id: str) -> None:
        """Delete an identity and all its vectors."""

    def thumbnail(self, identity_id: str) -> bytes | None:
        """The stored JPEG thumbnail of an identity, or None."""

    def count(self) -> int:
        """How many identities the store holds (one cheap query: also a reachability probe)."""

    def summaries(self) -> list[IdentitySummary]:
        """Every identity with its vector counts, known people first, by name."""

    def load_gallery(self, info: EngineInfo, include_unknown: bool = True) -> Gallery:
        """A Gallery of every identity's vectors made by exactly ``info``'s engine/model/version."""

    def iter_identities(self) -> Iterator[Identity]:
        """Every identity in the store."""

    # -- items in VidiCore
    def mark_imported(self, identity_ids: Iterable[str]) -> int:
        """Record that VidiCore holds an item for each id; returns how many changed from pending."""

    def pending_unknowns(self) -> set[str]:
        """Ids of the unknown fingerprints whose item VidiCore has not confirmed yet."""

    def item_sightings(self) -> dict[str, str]:
        """Every fingerprint seen with an item (``vcs_face_externalId``), and that item's id."""

    def record_item_sightings(self, items: Mapping[str, str]) -> None:
        """Note that each fingerprint of ``items`` has the item it maps to (now)."""

    def forget_item_sightings(self, fingerprints: Iterable[str]) -> None:
        """Stop tracking ``fingerprints`` (suppressed, named or merged away)."""

    def relabel_requests(self) -> dict[str, str]:
        """Every item a name was asked for (relabel job), and that name."""

    def claim_relabel(self, item_id: str, name: str, instance: str) -> bool:
        """Record that ``instance`` asks for ``name`` on ``item_id``; False when asked for already
        (atomic: of several callers exactly one gets True and starts the job)."""

    def release_relabel(self, item_id: str, name: str) -> None:
        """Forget a claim whose job could not be started, so the name is asked for again."""

    # -- work claims: which instance runs a unit of work (times from the database's clock)
    def claim_work(self, key: str, instance: str, stale_after_s: float) -> WorkClaim | None:
        """Take the unit of work ``key`` for ``instance``; None when another live instance holds it.

        Succeeds when nobody holds ``key``, when its holder last renewed it ``stale_after_s``
        seconds or more ago (a takeover: ``previous_instance`` names that holder), or when
        ``instance`` holds it already (a restarted instance claiming again); each successful
        claim after the first counts one more attempt. Atomic: of several instances claiming
        at once exactly one wins. Ages are measured with the database server's clock, so
        hosts whose clocks disagree still agree on who holds what.
        """

    def renew_work(self, key: str, instance: str) -> bool:
        """Mark ``instance``'s claim on ``key`` live again (now); False when it no longer holds it."""

    def release_work(self, key: str, instance: str) -> bool:
        """Drop ``instance``'s claim on ``key`` (the work is done or given up); True if it held one."""

    def work_claims(self, prefix: str = "") -> list[WorkClaim]:
        """Every current claim whose key starts with ``prefix`` (literally: no wildcards), by key."""

    # -- small documents of the service (e.g. autotrain's state)
    def load_state(self, key: str) -> str | None:
        """The text saved under ``key``, or None."""

    def save_state(self, key: str, value: str) -> None:
        """Save ``value`` under ``key`` (replacing what was there)."""

    # -- copying between stores
    def table_rows(self, table: str) -> list[Row]:
        """Every row of ``table`` (a key of TABLES), for ``copy_store``."""

    def insert_rows(self, table: str, rows: Sequence[Row]) -> int:
        """Insert rows read by ``table_rows`` in one transaction; returns how many.

        Rows are not de-duplicated: ``copy_store`` copies only into an empty store."""
