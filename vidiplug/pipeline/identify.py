"""Tracks → people: vote per track, assign identities exclusively, group the rest into unknowns.

New unknown fingerprints are written to the store when one is given (joining one that
another instance created meanwhile for the same person).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from vidiplug.engine.base import EngineInfo
from vidiplug.identity.assign import assign_exclusive
from vidiplug.identity.decide import DecisionRules, Match, aggregate, decide, rules_for
from vidiplug.identity.gallery import Gallery, Identity, IdentityKind
from vidiplug.identity.store import IdentityStore
from vidiplug.pipeline.consistency import cross_check
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

    Each track is first verified face by face and split where its faces name different
    people; each piece is then named by its own faces' vote (``decide``), co-visible
    pieces never share a name, and the rest are grouped into unknown fingerprints.
    Suppressed fingerprints are matched but dropped.
    """
    rules = rules_for(engine_info.name)
    segments = verified_segments(tracker.tracks, gallery, rules, params.threshold)
    conflicts = co_visible(segments)
    index_of = {t.id: i for i, t in enumerate(segments)}
    matches = [decide_track(t, gallery, rules, params.threshold) for t in segments]
    pairs = [(index_of[a], index_of[b]) for a, b in conflicts]
    names = cross_check(
        segments, [m.index for m in matches], [m.confidence for m in matches], [m.best for m in matches], pairs, rules
    )
    scores = np.zeros((len(segments), len(gallery)), np.float32)
    for i, (match, name) in enumerate(zip(matches, names)):
        if name is not None:
            scores[i, name] = max(match.confidence, 1e-3)
    chosen = assign_exclusive(scores, pairs, 1e-4)
    groups: dict[str, _Group] = {}
    unmatched: list[int] = []
    for index, ident in enumerate(chosen):
        if ident is None:
            unmatched.append(index)
            continue
        identity = gallery.identities[ident]
        group = groups.setdefault(identity.id, _Group(identity, [], []))
        group.tracks.append(segments[index])
        group.scores.append(matches[index].confidence)
    if params.import_unknowns:
        stored = [g for g in groups.values() if g.identity.kind is IdentityKind.UNKNOWN]
        seeds = [[index_of[t.id] for t in g.tracks] for g in stored]
        clusters = group_unknowns(segments, seeds, unmatched, pairs, rules)
        for g, cluster in zip(stored, clusters[: len(stored)]):
            extra = [segments[i] for i in cluster if segments[i] not in g.tracks]
            g.tracks.extend(extra)
            g.scores.extend([min(g.scores)] * len(extra))
        for cluster in clusters[len(stored):]:
            members = [segments[i] for i in cluster]
            if max(o.det_score for t in members for o in t.observations) < params.unknown_min_detection:
                continue
            identity = Identity(str(uuid.uuid4()), None, IdentityKind.UNKNOWN)
            groups[identity.id] = _Group(identity, members, [1.0] * len(members), is_new=True)
    people = []
    reported: dict[int, str] = {}
    judged = {identity.id for identity in gallery.identities} | set(groups)
    for group in groups.values():
        if group.identity.suppressed:
            continue
        thumbnail = _thumbnail(group.tracks)
        if store is not None:
            _persist(store, group, engine_info, params.keep_vectors, thumbnail, judged, rules.group)
        reported.update((t.id, group.identity.id) for t in group.tracks)
        people.append(_person(group, params, duration_s, thumbnail))
    people.sort(key=lambda p: (not p.known, p.name or "", p.appearances[0].start_s if p.appearances else 0))
    records = [
        TrackRecord(t.id, reported.get(t.id), tuple(o.time_s for o in t.observations), tuple(o.box for o in t.observations))
        for t in segments
    ]
    return people, records


def verified_segments(tracks: list[Track], gallery: Gallery, rules: DecisionRules, threshold: float) -> list[Track]:
    """The tracks, each split wherever its faces, decided one by one, name different people.

    A face that names nobody does not split a track; a face that confidently names X
    after faces that named Y starts a new piece. New pieces get ids after every existing one.
    """
    next_id = max((t.id for t in tracks), default=0) + 1
    result: list[Track] = []
    for track in tracks:
        face_scores = gallery.similarity(track.embeddings())
        named = [decide(row, rules, threshold).index for row in face_scores]
        start, current = 0, None
        for i, ident in enumerate(named):
            if ident is None:
                continue
            if current is not None and ident != current:
                result.append(_piece(track, start, i, track.id if start == 0 else next_id))
                next_id += 0 if start == 0 else 1
                start = i
            current = ident
        if start == 0:
            result.append(track)
        else:
            result.append(_piece(track, start, len(named), next_id))
            next_id += 1
    return result


def _piece(track: Track, start: int, end: int, track_id: int) -> Track:
    piece = Track(id=track_id, shot=track.shot, observations=track.observations[start:end])
    piece.best_crop, piece.best_quality = track.best_crop, track.best_quality
    return piece


def decide_track(track: Track, gallery: Gallery, rules: DecisionRules, threshold: float) -> Match:
    """Name a verified track: its faces' aggregated similarity decided against the gallery,
    and accepted only when at least half of its faces have that identity as their best."""
    face_scores = gallery.similarity(track.embeddings())
    if face_scores.shape[1] == 0:
        return decide(np.zeros(0, np.float32), rules, threshold)
    match = decide(aggregate(face_scores), rules, threshold)
    if match.index is None:
        return match
    votes = int((face_scores.argmax(axis=1) == match.index).sum())
    if 2 * votes < face_scores.shape[0]:
        return Match(None, match.best, match.similarity, match.margin, match.normalised, match.confidence)
    return match


def co_visible(tracks: list[Track]) -> list[tuple[int, int]]:
    """Pairs of track ids seen in the same sampled frame."""
    by_frame: dict[int, list[int]] = {}
    for track in tracks:
        for obs in track.observations:
            by_frame.setdefault(obs.frame_index, []).append(track.id)
    pairs: set[tuple[int, int]] = set()
    for ids in by_frame.values():
        for a in range(len(ids)):
            for b in range(a + 1, len(ids)):
                if ids[a] != ids[b]:
                    pairs.add((min(ids[a], ids[b]), max(ids[a], ids[b])))
    return sorted(pairs)


def group_unknowns(
    tracks: list[Track], seeds: list[list[int]], unmatched: list[int], conflicts: list[tuple[int, int]],
    rules: DecisionRules,
) -> list[list[int]]:
    """Group unrecognised tracks into people by average-link merging.

    ``seeds`` are groups already fixed (tracks matched to a stored unknown fingerprint):
    unmatched tracks may join them, but two seeds are never merged with each other.
    Returns the seeds' final groups first (same order), then one group per new person.
    The closest two groups merge while their average cosine is at least ``rules.group``
    (set above the similarity of different people within one video, so that grouping
    errs towards two fingerprints for one person, which an archivist merges once, rather
    than one fingerprint for two); groups holding tracks seen in the same frame never merge.
    """
    clusters: list[list[int]] = [list(s) for s in seeds] + [[i] for i in unmatched]
    fixed = [True] * len(seeds) + [False] * len(unmatched)
    if len(clusters) < 2:
        return clusters
    members = sorted({i for c in clusters for i in c})
    pos = {t: k for k, t in enumerate(members)}
    means = np.stack([tracks[i].mean_embedding() for i in members])
    sims = means @ means.T
    blocked = np.zeros(sims.shape, bool)
    for a, b in conflicts:
        if a in pos and b in pos:
            blocked[pos[a], pos[b]] = blocked[pos[b], pos[a]] = True
    while True:
        n = len(clusters)
        link = np.full((n, n), -np.inf)
        for a in range(n):
            rows = [pos[i] for i in clusters[a]]
            for b in range(a + 1, n):
                cols = [pos[i] for i in clusters[b]]
                if (fixed[a] and fixed[b]) or blocked[np.ix_(rows, cols)].any():
                    continue
                link[a, b] = link[b, a] = float(sims[np.ix_(rows, cols)].mean())
        if n < 2 or not np.isfinite(link).any():
            break
        a, b = np.unravel_index(int(np.argmax(link)), link.shape)
        if link[a, b] < rules.group:
            break
        keep, drop = (a, b) if fixed[a] or not fixed[b] else (b, a)
        clusters[keep] = sorted(clusters[keep] + clusters[drop])
        fixed[keep] = fixed[keep] or fixed[drop]
        del clusters[drop], fixed[drop]
    return clusters


def _person(group: _Group, params: AnalyzeParams, duration_s: float, thumbnail: bytes | None) -> PersonResult:
    sightings = [
        Sighting(obs.time_s, score, obs.box)
        for track, score in zip(group.tracks, group.scores)
        for obs in track.observations
    ]
    appearances = consolidate(sightings, interval_s=params.interval_s, duration_s=duration_s, max_span_s=params.max_span_s)
    known = group.identity.kind is IdentityKind.KNOWN
    return PersonResult(
        fingerprint=group.identity.id,
        name=group.identity.name if known else None,
        known=known,
        confidence=round(max(group.scores), 4),
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


def _persist(store: IdentityStore, group: _Group, info: EngineInfo, keep: int, thumbnail: bytes | None,
             judged: set[str], join_similarity: float) -> None:
    """Save the group's best vectors. A new unknown joins the fingerprint another instance made
    for the same person since our gallery was read (``judged``: identities this analysis
    already decided on), found and created atomically by the store."""
    pairs = sorted(
        ((o.quality, o.embedding) for t in group.tracks for o in t.observations if o.embedding is not None),
        key=lambda p: -p[0],
    )[:keep]
    vectors = np.stack([e for _, e in pairs]).astype(np.float32)
    qualities = [q for q, _ in pairs]
    if group.is_new:
        stored = store.create_unknown(info, vectors, qualities, thumbnail, identity_id=group.identity.id,
                                      join_similarity=join_similarity, exclude=judged, keep_best=keep)
        if stored.id != group.identity.id:
            group.identity, group.is_new = stored, False
    elif group.identity.kind is IdentityKind.UNKNOWN:
        store.add_vectors(group.identity.id, info, vectors, qualities, keep_best=keep)
