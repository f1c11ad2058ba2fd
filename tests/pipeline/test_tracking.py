"""Tracks never hold two people: overlap only within a shot, margins after a gap, splits on disagreement."""

from __future__ import annotations

import numpy as np

from vidiplug.engine.base import Box, EngineInfo, l2_normalise
from vidiplug.engine.dlib import RULES
from vidiplug.identity.gallery import Gallery, Identity, IdentityKind
from vidiplug.pipeline.identify import verified_segments
from vidiplug.pipeline.tracking import Observation, Tracker

INFO = EngineInfo("dlib", "test", "0", 4, RULES)


def _vec(*values: float) -> np.ndarray:
    return l2_normalise(np.array([values], np.float32))[0]


def _pair(cosine: float) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors at exactly ``cosine`` (dlib puts relatives at 0.88-0.95)."""
    return _vec(1, 0, 0, 0), _vec(cosine, float(np.sqrt(1 - cosine**2)), 0, 0)


def _obs(frame: int, box: Box, vec: np.ndarray) -> Observation:
    return Observation(frame, float(frame), box, 0.9, 0.5, vec)


def test_overlapping_faces_keep_their_track_id_within_a_shot() -> None:
    tracker = Tracker(RULES)
    a, b = _vec(1, 0, 0, 0), _vec(0, 1, 0, 0)
    left, right = Box(0, 0, 50, 50), Box(200, 0, 250, 50)
    tracker.update(0, [_obs(0, left, a), _obs(0, right, b)], scene_cut=False)

    tracks = tracker.update(1, [_obs(1, Box(205, 2, 255, 52), b), _obs(1, Box(3, 1, 53, 51), a)], scene_cut=False)

    assert [t.id for t in tracks] == [2, 1]
    assert tracker.conflicts() == [(1, 2)]


def test_a_cut_between_two_look_alikes_at_the_same_place_never_continues_a_track() -> None:
    # Cosine 0.95: what dlib gives two brothers. The old tracker resumed at ~0.89.
    first, second = _pair(0.95)
    tracker = Tracker(RULES)
    tracker.update(0, [_obs(0, Box(0, 0, 50, 50), first)], scene_cut=True)
    tracker.update(1, [_obs(1, Box(0, 0, 50, 50), first)], scene_cut=False)

    tracks = tracker.update(2, [_obs(2, Box(0, 0, 50, 50), second)], scene_cut=True)

    assert tracks[0].id == 2 and len(tracker.tracks) == 2


def test_after_a_cut_even_the_same_face_starts_a_new_track() -> None:
    # Who is who across shots is decided by identification and grouping, with margins.
    face = _vec(1, 1, 1, 1)
    tracker = Tracker(RULES)
    tracker.update(0, [_obs(0, Box(0, 0, 50, 50), face)], scene_cut=True)

    tracks = tracker.update(1, [_obs(1, Box(0, 0, 50, 50), face)], scene_cut=True)

    assert tracks[0].id == 2


def test_a_different_face_at_the_same_place_in_one_shot_starts_a_new_track() -> None:
    a, b = _pair(0.7)
    tracker = Tracker(RULES)
    tracker.update(0, [_obs(0, Box(0, 0, 50, 50), a)], scene_cut=True)

    tracks = tracker.update(1, [_obs(1, Box(0, 0, 50, 50), b)], scene_cut=False)

    assert tracks[0].id == 2


def test_a_lost_face_is_resumed_only_by_a_clear_margin() -> None:
    a, b = _pair(0.95)
    tracker = Tracker(RULES)
    tracker.update(0, [_obs(0, Box(0, 0, 50, 50), a), _obs(0, Box(300, 0, 350, 50), b)], scene_cut=True)
    tracker.update(1, [], scene_cut=False)

    # Face a comes back elsewhere: it matches track 1 exactly, track 2 at 0.95: resumed.
    clear = tracker.update(2, [_obs(2, Box(150, 150, 200, 200), a)], scene_cut=False)
    # A face halfway between the two matches both about equally: a new track.
    middle = l2_normalise((a + b)[None])[0]
    unsure = tracker.update(3, [_obs(3, Box(150, 300, 200, 350), middle)], scene_cut=False)

    assert clear[0].id == 1
    assert unsure[0].id == 3


def test_a_gallery_identity_that_fits_better_blocks_a_resume() -> None:
    a, b = _pair(0.93)
    gallery_scores = np.array([[0.99]], np.float32)  # the face is someone the gallery knows, better than the track
    tracker = Tracker(RULES)
    tracker.update(0, [_obs(0, Box(0, 0, 50, 50), a)], scene_cut=True)
    tracker.update(1, [], scene_cut=False)

    tracks = tracker.update(2, [_obs(2, Box(300, 300, 350, 350), b)], scene_cut=False, gallery_scores=gallery_scores)

    assert tracks[0].id == 2


def test_a_track_whose_faces_switch_person_is_split() -> None:
    anna, bert = _vec(1, 0, 0, 0), _vec(0, 1, 0, 0)
    gallery = Gallery(INFO)
    gallery.add(Identity("a", "Anna", IdentityKind.KNOWN), anna[None])
    gallery.add(Identity("b", "Bert", IdentityKind.KNOWN), bert[None])
    gallery.add(Identity("c", "Carl", IdentityKind.KNOWN), _vec(0, 0, 1, 0)[None])
    tracker = Tracker(RULES)
    # As if overlap had continued one track through a swap it could not see; verification
    # of every face must still split it.
    faces = [anna, anna, anna, bert, bert]
    for i, face in enumerate(faces):
        obs = _obs(i, Box(0, 0, 50, 50), face)
        if i == 0:
            tracker.update(i, [obs], scene_cut=True)
        else:
            tracker.tracks[0].observations.append(obs)

    pieces = verified_segments(tracker.tracks, gallery, RULES, 0.5)

    assert [[o.frame_index for o in p.observations] for p in pieces] == [[0, 1, 2], [3, 4]]
    assert pieces[0].id == 1 and pieces[1].id == 2
