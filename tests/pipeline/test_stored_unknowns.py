"""Re-analysis does not mint a new fingerprint for a face the store already holds as an unknown.

When two stored unknown fingerprints look alike (one character or person split by an earlier
run), a track that resembles both fails the open-set decision's best-versus-second margin.
It joins the stored unknown it links to by the grouping rule instead of becoming a new one;
names are never given that way. Hand-made tracks and galleries: no engine, no media.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.base import Box, EngineInfo
from vidiplug.engine.character import RULES
from vidiplug.identity.gallery import Gallery, Identity, IdentityKind
from vidiplug.pipeline.identify import Decision, identify_tracks
from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.pipeline.record import representative_faces
from vidiplug.pipeline.tracking import Observation, Track, Tracker

DIM = 8
INFO = EngineInfo(name="character", model="series:test|x", version="v", dim=DIM, rules=RULES)


def unit(values: Sequence[float]) -> NDArray[np.float32]:
    vector = np.asarray(values, np.float32)
    return vector / np.linalg.norm(vector)


BASE = unit([1, 0, 0, 0, 0, 0, 0, 0])
TWIN = unit([1, 0.14, 0, 0, 0, 0, 0, 0])  # cosine 0.99 with BASE: under the 0.02 margin
OTHER = unit([0, 0, 0, 1, 0, 0, 0, 0])


def track(track_id: int, vector: NDArray[np.float32], frames: Sequence[int]) -> Track:
    return Track(id=track_id, shot=0, observations=[
        Observation(f, float(f), Box(0.0, 0.0, 50.0, 50.0), 0.9, 0.5 + 0.01 * k, vector)
        for k, f in enumerate(frames)
    ])


def decide_all(tracks: list[Track], gallery: Gallery) -> list[Decision]:
    tracker = Tracker(RULES)
    tracker.tracks = tracks
    return identify_tracks(tracker, gallery, AnalyzeParams(), RULES)


def gallery_of(*entries: tuple[Identity, NDArray[np.float32]]) -> Gallery:
    gallery = Gallery(INFO)
    for identity, vector in entries:
        gallery.add(identity, vector[None, :])
    return gallery


def unknown(name: str, suppressed: bool = False) -> Identity:
    return Identity(f"{name}-id", None, IdentityKind.UNKNOWN, suppressed=suppressed)


def test_a_track_between_two_look_alike_stored_unknowns_joins_the_nearer_one() -> None:
    first, twin = unknown("first"), unknown("twin")
    [decision] = decide_all([track(1, BASE, [0, 1, 2])], gallery_of((first, BASE), (twin, TWIN)))

    assert decision.identity is not None and decision.identity.id == first.id
    assert not decision.is_new and decision.reported
    assert 0.87 <= decision.confidence <= 1.0  # the link it joined by


def test_a_track_like_no_stored_unknown_is_still_a_new_fingerprint() -> None:
    [decision] = decide_all([track(1, OTHER, [0, 1])], gallery_of((unknown("first"), BASE), (unknown("twin"), TWIN)))

    assert decision.is_new and decision.identity is not None and decision.identity.id not in {"first-id", "twin-id"}


def test_a_name_is_never_given_by_the_grouping_rule() -> None:
    ann = Identity("ann-id", "Ann", IdentityKind.KNOWN)
    bea = Identity("bea-id", "Bea", IdentityKind.KNOWN)
    [decision] = decide_all([track(1, BASE, [0, 1, 2])], gallery_of((ann, BASE), (bea, TWIN)))

    assert decision.identity is not None and decision.identity.name is None and decision.is_new


def test_two_tracks_seen_together_do_not_join_one_stored_unknown() -> None:
    first, twin = unknown("first"), unknown("twin")
    decisions = decide_all([track(1, BASE, [0, 1]), track(2, BASE, [0, 1])], gallery_of((first, BASE), (twin, TWIN)))

    ids = [d.identity.id for d in decisions if d.identity is not None]
    assert sorted(ids) == ["first-id", "twin-id"]


def test_a_deleted_unknown_keeps_its_look_alike_sightings_unreported() -> None:
    hidden, twin = unknown("hidden", suppressed=True), unknown("twin")
    [decision] = decide_all([track(1, BASE, [0, 1, 2])], gallery_of((hidden, BASE), (twin, TWIN)))

    assert decision.identity is not None and decision.identity.id == hidden.id
    assert not decision.reported and not decision.is_new


def test_representative_faces_cover_every_track_before_a_second_face_of_any() -> None:
    long_sharp = Track(id=1, shot=0, observations=[
        Observation(f, float(f), Box(0.0, 0.0, 50.0, 50.0), 0.9, 0.9 - 0.01 * f, BASE) for f in range(10)])
    short_soft = track(2, OTHER, [20, 21])  # qualities 0.50, 0.51: below every face of the first

    chosen = representative_faces([long_sharp, short_soft], keep=3)

    assert [q for q, _ in chosen] == [0.9, 0.51, 0.89]
    assert any(np.array_equal(vector, OTHER) for _, vector in chosen)
    assert representative_faces([long_sharp], keep=20)[-1][0] == 0.9 - 0.01 * 9
