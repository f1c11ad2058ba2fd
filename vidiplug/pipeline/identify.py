"""Tracks → people: vote per track, assign identities exclusively, group the rest into unknowns.

New unknown fingerprints are written to the store when one is given.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from vidiplug.engine.base import EngineInfo
from vidiplug.identity.assign import assign_exclusive, vote
from vidiplug.identity.calibration import to_confidence
from vidiplug.identity.gallery import Gallery, Identity, IdentityKind
from vidiplug.identity.store import IdentityStore
from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.pipeline.results import PersonResult, TrackRecord
from vidiplug.pipeline.spans import Sighting, consolidate
from vidiplug.pipeline.tracking import Track, Tracker


@dataclass(eq=False)
class _Group:
    identity: Identity
    tracks: list[Track]
    scores: list[float]
    is_new: bool = False


def identify_tracks(
    tracker: Tracker,
    gallery: Gallery,
    params: AnalyzeParams,
    duration_s: float,
    *,
    store: IdentityStore | None,
    engine_info: EngineInfo,
) -> tuple[list[PersonResult], list[TrackRecord]]:
    """People found in the tracks, known first, and every track with the fingerprint it was reported as.

    Suppressed fingerprints are matched but dropped.
    """
    tracks = [t for t in tracker.tracks if t.embeddings().shape[0]]
    position = {t.id: i for i, t in enumerate(tracker.tracks)}
    kept = {position[t.id]: i for i, t in enumerate(tracks)}
    conflicts = [(kept[a], kept[b]) for a, b in tracker.conflicts() if a in kept and b in kept]
    scores = np.stack([vote(gallery.confidence(t.embeddings())) for t in tracks]) if tracks else np.zeros((0, 0))
    chosen = assign_exclusive(scores.astype(np.float32), conflicts, params.threshold)
    groups: dict[str, _Group] = {}
    unmatched: list[int] = []
    for index, ident in enumerate(chosen):
        if ident is None:
            unmatched.append(index)
            continue
        identity = gallery.identities[ident]
        group = groups.setdefault(identity.id, _Group(identity, [], []))
        group.tracks.append(tracks[index])
        group.scores.append(float(scores[index, ident]))
    if params.import_unknowns:
        for cluster in cluster_tracks([tracks[i] for i in unmatched], unmatched, conflicts, engine_info.name,
                                      params.cluster_threshold):
            members = [tracks[i] for i in cluster]
            if max(o.det_score for t in members for o in t.observations) < params.unknown_min_detection:
                continue
            identity = Identity(str(uuid.uuid4()), None, IdentityKind.UNKNOWN)
            groups[identity.id] = _Group(identity, members, [1.0] * len(members), is_new=True)
    people = []
    reported: dict[int, str] = {}
    for group in groups.values():
        if group.identity.suppressed:
            continue
        reported.update((t.id, group.identity.id) for t in group.tracks)
        reference = _reference_vectors(group, gallery)
        thumbnail = _thumbnail(group.tracks)
        if store is not None:
            _persist(store, group, engine_info, params.keep_vectors, thumbnail)
        people.append(_person(group, reference, engine_info, params, duration_s, thumbnail))
    people.sort(key=lambda p: (not p.known, p.name or "", p.appearances[0].start_s if p.appearances else 0))
    records = [
        TrackRecord(t.id, reported.get(t.id), tuple(o.time_s for o in t.observations), tuple(o.box for o in t.observations))
        for t in tracker.tracks
    ]
    return people, records


def cluster_tracks(
    tracks: list[Track], labels: list[int], conflicts: list[tuple[int, int]], engine_name: str, threshold: float
) -> list[list[int]]:
    """Group unrecognised tracks into people: average-link merging above ``threshold``.

    Clusters holding tracks seen in the same frame are never merged. Returns lists of the
    given ``labels`` (track indices).
    """
    if not tracks:
        return []
    means = np.stack([t.mean_embedding() for t in tracks])
    conf = to_confidence(means @ means.T, engine_name)
    label_pos = {label: i for i, label in enumerate(labels)}
    blocked = {(label_pos[a], label_pos[b]) for a, b in conflicts if a in label_pos and b in label_pos}
    clusters: list[set[int]] = [{i} for i in range(len(tracks))]
    while True:
        best, pair = threshold, None
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                if any((x, y) in blocked or (y, x) in blocked for x in clusters[a] for y in clusters[b]):
                    continue
                link = float(conf[np.ix_(sorted(clusters[a]), sorted(clusters[b]))].mean())
                if link >= best:
                    best, pair = link, (a, b)
        if pair is None:
            break
        clusters[pair[0]] |= clusters.pop(pair[1])
    return [[labels[i] for i in sorted(c)] for c in clusters]


def _reference_vectors(group: _Group, gallery: Gallery) -> NDArray[np.float32]:
    if not group.is_new:
        index = next(i for i, ident in enumerate(gallery.identities) if ident.id == group.identity.id)
        rows: NDArray[np.float32] = gallery.vectors[gallery.owners == index]
        return rows
    return _best_vectors(group.tracks, 16)


def _best_vectors(tracks: list[Track], count: int) -> NDArray[np.float32]:
    pairs = [(o.quality, o.embedding) for t in tracks for o in t.observations if o.embedding is not None]
    pairs.sort(key=lambda p: -p[0])
    result: NDArray[np.float32] = np.stack([e for _, e in pairs[:count]]).astype(np.float32)
    return result


def _person(
    group: _Group, reference: NDArray[np.float32], info: EngineInfo, params: AnalyzeParams, duration_s: float,
    thumbnail: bytes | None,
) -> PersonResult:
    sightings = []
    for track, track_score in zip(group.tracks, group.scores):
        for obs in track.observations:
            if obs.embedding is not None:
                conf = float(to_confidence(np.max(reference @ obs.embedding, keepdims=True), info.name)[0])
            else:
                conf = track_score
            sightings.append(Sighting(obs.time_s, conf, obs.box))
    appearances = consolidate(sightings, interval_s=params.interval_s, duration_s=duration_s, max_span_s=params.max_span_s)
    known = group.identity.kind is IdentityKind.KNOWN
    return PersonResult(
        fingerprint=group.identity.id,
        name=group.identity.name if known else None,
        known=known,
        confidence=round(max(group.scores) if not group.is_new else max(a.confidence for a in appearances), 4),
        appearances=tuple(appearances),
        thumbnail_jpeg=thumbnail,
        is_new=group.is_new,
    )


def _thumbnail(tracks: list[Track]) -> bytes | None:
    best = max(tracks, key=lambda t: t.best_quality)
    if best.best_crop is None or best.best_crop.size == 0:
        return None
    buffer = io.BytesIO()
    Image.fromarray(best.best_crop).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _persist(store: IdentityStore, group: _Group, info: EngineInfo, keep: int, thumbnail: bytes | None) -> None:
    pairs = sorted(
        ((o.quality, o.embedding) for t in group.tracks for o in t.observations if o.embedding is not None),
        key=lambda p: -p[0],
    )[:keep]
    vectors = np.stack([e for _, e in pairs]).astype(np.float32)
    qualities = [q for q, _ in pairs]
    if group.is_new:
        store.create_unknown(info, vectors, qualities, thumbnail, identity_id=group.identity.id)
    elif group.identity.kind is IdentityKind.UNKNOWN:
        store.add_vectors(group.identity.id, info, vectors, qualities, keep_best=keep)
