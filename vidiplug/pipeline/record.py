"""Record an analysis's decisions: thumbnails, and the identity store's writes, in one place.

Identification (identify.py) only decides. This step, run once after it by
``analyze_media`` (so the same for the CLI and the service), makes each reported
identity's thumbnail and, given a store, saves new unknown fingerprints and enriches
matched ones. The store may answer a new fingerprint with another identity (one that
another instance created for the same person at the same time); the decisions are then
moved to the identity the store kept.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from vidiplug.engine.base import EngineInfo
from vidiplug.identity.gallery import Gallery, IdentityKind
from vidiplug.identity.store import IdentityStore
from vidiplug.pipeline.identify import Decision
from vidiplug.pipeline.tracking import Track

JPEG_QUALITY = 90


@dataclass(frozen=True)
class Recorded:
    """What recording produced: the decisions (moved to stored identities where the store
    said so) and a JPEG thumbnail per reported fingerprint (None when no crop was kept)."""

    decisions: tuple[Decision, ...]
    thumbnails: dict[str, bytes | None]


def record_decisions(
    decisions: Sequence[Decision], info: EngineInfo, *, store: IdentityStore | None, keep_vectors: int,
    judged: Collection[str] = (), join_similarity: float | None = None, gallery: Gallery | None = None,
) -> Recorded:
    """Thumbnails for every reported identity; with ``store``, new unknowns created and matched unknowns enriched.

    ``keep_vectors`` caps how many of an unknown's best faces (by quality) are stored. A new
    unknown joins a stored one that another instance created for the same person since this
    analysis read its gallery (average cosine at least ``join_similarity``; ``judged``: the
    identities this analysis already decided on, never joined), found and created in one
    store transaction. A matched unknown is given only the faces that ``gallery`` (the one the
    decisions were made against) does not already hold for it at the grouping level, so
    analysing the same media again adds nothing, and the faces that made it match stay stored.
    """
    by_identity: dict[str, list[Decision]] = {}
    for decision in decisions:
        if decision.reported and decision.identity is not None:
            by_identity.setdefault(decision.identity.id, []).append(decision)
    thumbnails: dict[str, bytes | None] = {}
    moved: dict[int, Decision] = {}
    for identity_id, group in by_identity.items():
        tracks = [d.track for d in group]
        thumbnail = thumbnail_jpeg(tracks)
        kept_id = identity_id
        if store is not None:
            kept_id = _save(store, group, info, keep_vectors, thumbnail, set(judged), join_similarity, gallery)
        thumbnails[kept_id] = thumbnail
        if kept_id != identity_id:
            for decision in group:
                assert decision.identity is not None
                identity = dataclasses.replace(decision.identity, id=kept_id)
                moved[decision.track.id] = dataclasses.replace(decision, identity=identity, is_new=False)
    final = tuple(moved.get(d.track.id, d) for d in decisions)
    return Recorded(final, thumbnails)


def thumbnail_jpeg(tracks: Sequence[Track]) -> bytes | None:
    """The best-quality face crop of ``tracks`` as JPEG bytes, or None when none was kept."""
    best = max(tracks, key=lambda t: t.best_quality)
    if best.best_crop is None or best.best_crop.size == 0:
        return None
    buffer = io.BytesIO()
    Image.fromarray(best.best_crop).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def representative_faces(tracks: Sequence[Track], keep: int) -> list[tuple[float, NDArray[np.float32]]]:
    """Up to ``keep`` (quality, embedding) pairs that cover the tracks: each track's best face
    first, best tracks first, then each one's second best, and so on.

    The best faces of the whole group would often all come from its longest, sharpest track,
    and the next analysis of the same media would then miss the group's other tracks (other
    angles, other lighting) and mint new fingerprints for them.
    """
    ranked = [sorted(((o.quality, o.embedding) for o in t.observations), key=lambda p: -p[0]) for t in tracks]
    ranked = sorted((r for r in ranked if r), key=lambda r: -r[0][0])
    chosen: list[tuple[float, NDArray[np.float32]]] = []
    for depth in range(max((len(r) for r in ranked), default=0)):
        chosen.extend(r[depth] for r in ranked if depth < len(r))
        if len(chosen) >= keep:
            break
    return chosen[:keep]


def _novel(pairs: list[tuple[float, NDArray[np.float32]]], identity_id: str, gallery: Gallery | None,
           level: float) -> list[tuple[float, NDArray[np.float32]]]:
    """The faces of ``pairs`` whose best cosine to the identity's vectors in ``gallery`` is under ``level``."""
    if gallery is None:
        return pairs
    index = next((k for k, known in enumerate(gallery.identities) if known.id == identity_id), None)
    stored = gallery.vectors[gallery.owners == index] if index is not None else gallery.vectors[:0]
    if stored.shape[0] == 0 or not pairs:
        return pairs
    best = (np.stack([e for _, e in pairs]) @ stored.T).max(axis=1)
    return [pair for pair, similarity in zip(pairs, best) if similarity < level]


def _save(store: IdentityStore, group: list[Decision], info: EngineInfo, keep: int, thumbnail: bytes | None,
          judged: set[str], join_similarity: float | None, gallery: Gallery | None = None) -> str:
    """Write one identity's faces to the store; the id of the identity the store kept."""
    identity = group[0].identity
    assert identity is not None
    if identity.kind is not IdentityKind.UNKNOWN:
        return identity.id  # known people are trained, not learnt from analyses
    pairs = representative_faces([d.track for d in group], keep)
    if group[0].is_new:
        vectors = np.stack([e for _, e in pairs]).astype(np.float32)
        return store.create_unknown(info, vectors, [q for q, _ in pairs], thumbnail, identity_id=identity.id,
                                    join_similarity=join_similarity, exclude=judged, keep_best=keep).id
    novel = _novel(pairs, identity.id, gallery, info.rules.group)
    if novel:
        vectors = np.stack([e for _, e in novel]).astype(np.float32)
        store.add_vectors(identity.id, info, vectors, [q for q, _ in novel], keep_best=keep)
    return identity.id
