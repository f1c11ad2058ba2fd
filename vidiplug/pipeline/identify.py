"""Tracks → decisions: verify each track, name it by vote, assign names exclusively, group the rest.

Deciding has no side effects: nothing here writes to a store or encodes a picture. The
decisions are recorded (store writes, thumbnails) by ``pipeline/record.py`` and turned into
people by ``pipeline/people.py``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np

from vidiplug.engine.calibration import DecisionRules
from vidiplug.identity.assign import assign_exclusive
from vidiplug.identity.decide import Match, aggregate, decide
from vidiplug.identity.gallery import Gallery, Identity, IdentityKind
from vidiplug.pipeline.consistency import cross_check
from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.pipeline.tracking import Track, Tracker


@dataclass(frozen=True, eq=False)
class Decision:
    """Who one verified track is.

    ``identity`` is the gallery identity it was matched to, a new unknown fingerprint
    (``is_new``), or None when it is not reported (a doubtful unknown: no face of it was
    detected confidently enough). ``confidence`` is the decision's confidence (1.0 for a
    new fingerprint). A suppressed identity is matched but never reported.
    """

    track: Track
    identity: Identity | None
    confidence: float
    is_new: bool = False

    @property
    def reported(self) -> bool:
        """Whether the track is reported as its identity (matched, not suppressed)."""
        return self.identity is not None and not self.identity.suppressed


def identify_tracks(tracker: Tracker, gallery: Gallery, params: AnalyzeParams, rules: DecisionRules) -> list[Decision]:
    """One decision per verified track, in track order.

    Each track is first verified face by face and split where its faces name different
    people; each piece is then named by its own faces' vote (``decide``), co-visible
    pieces never share a name, names are cross-checked inside the video, and the rest
    are grouped into unknown fingerprints (new ones get fresh UUIDs; stored unknowns
    matched from the gallery are reused).
    """
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
    decided: dict[int, Decision] = {}
    unmatched: list[int] = []
    for index, ident in enumerate(chosen):
        if ident is None:
            unmatched.append(index)
        else:
            decided[index] = Decision(segments[index], gallery.identities[ident], matches[index].confidence)
    if params.import_unknowns:
        first_seen: dict[str, Identity] = {}
        for index in sorted(decided):
            identity = decided[index].identity
            if identity is not None and identity.kind is IdentityKind.UNKNOWN:
                first_seen.setdefault(identity.id, identity)
        stored = list(first_seen.values())
        seeds = [[i for i, d in decided.items() if d.identity is identity] for identity in stored]
        clusters = group_unknowns(segments, seeds, unmatched, pairs, rules)
        for identity, seed, cluster in zip(stored, seeds, clusters[: len(stored)]):
            # A track joining a stored unknown by grouping gets that identity's weakest match.
            weakest = min(decided[i].confidence for i in seed)
            for i in cluster:
                decided.setdefault(i, Decision(segments[i], identity, weakest))
        for cluster in clusters[len(stored):]:
            members = [segments[i] for i in cluster]
            if max(o.det_score for t in members for o in t.observations) < params.unknown_min_detection:
                continue
            known_as = stored_unknown_for(cluster, segments, gallery, decided, pairs, rules)
            if known_as is not None:
                identity, link = known_as
                for i in cluster:
                    decided[i] = Decision(segments[i], identity, link)
                continue
            identity = Identity(str(uuid.uuid4()), None, IdentityKind.UNKNOWN)
            for i in cluster:
                decided[i] = Decision(segments[i], identity, 1.0, is_new=True)
    return [decided.get(i, Decision(track, None, 0.0)) for i, track in enumerate(segments)]


def stored_unknown_for(
    cluster: list[int], segments: list[Track], gallery: Gallery, decided: dict[int, Decision],
    conflicts: list[tuple[int, int]], rules: DecisionRules,
) -> tuple[Identity, float] | None:
    """The stored unknown fingerprint a group of unrecognised tracks already is, with its link.

    A group no track of which the open-set decision accepted would otherwise become a new
    fingerprint. When the gallery holds two look-alike fingerprints (a character or person
    split by an earlier run), its tracks fail the best-versus-second margin between them, and
    every later analysis would mint yet another fingerprint for the same face. Between
    unknowns that margin guards nothing (no name is at stake), so the group joins the stored
    unknown it links to by the level that groups unknowns inside one video: the mean cosine of
    its tracks' mean vectors to the unit mean of the fingerprint's stored vectors, at least
    ``rules.group``. (A mean, because grouping compares track means, and single stored faces
    are noisier: their cosines to a track mean run lower, even for the very face stored.)
    Named identities are never given this way, and a fingerprint already taken in this
    analysis by a track seen in the same frame as the group is not a candidate. A suppressed
    (deleted) fingerprint is: its face stays unreported instead of coming back new.
    """
    candidates = [k for k, identity in enumerate(gallery.identities) if identity.kind is IdentityKind.UNKNOWN]
    if not candidates or gallery.vectors.shape[0] == 0:
        return None
    centroids = np.zeros((len(gallery), gallery.info.dim), np.float64)
    np.add.at(centroids, gallery.owners, gallery.vectors)
    norms = np.linalg.norm(centroids, axis=1)
    means = np.stack([segments[i].mean_embedding() for i in cluster])
    links = np.where(norms > 0, (means @ (centroids / np.maximum(norms, 1e-12)[:, None]).T).mean(axis=0), -np.inf)
    members = set(cluster)
    busy = {j for a, b in conflicts for i, j in ((a, b), (b, a)) if i in members}
    for k in sorted(candidates, key=lambda k: -links[k]):
        if links[k] < rules.group:
            return None
        identity = gallery.identities[k]
        if not any(d.identity is not None and d.identity.id == identity.id for j, d in decided.items() if j in busy):
            return identity, round(float(links[k]), 4)
    return None


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
        a, b = (int(i) for i in np.unravel_index(int(np.argmax(link)), link.shape))
        if link[a, b] < rules.group:
            break
        keep, drop = (a, b) if fixed[a] or not fixed[b] else (b, a)
        clusters[keep] = sorted(clusters[keep] + clusters[drop])
        fixed[keep] = fixed[keep] or fixed[drop]
        del clusters[drop], fixed[drop]
    return clusters
