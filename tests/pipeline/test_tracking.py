from __future__ import annotations

import numpy as np

from vidiplug.engine.base import Box, l2_normalise
from vidiplug.pipeline.tracking import Observation, Tracker


def _obs(frame: int, box: Box, vec: np.ndarray | None) -> Observation:
    return Observation(frame, float(frame), box, 0.9, 0.5, vec)


def test_overlapping_faces_keep_their_track_id() -> None:
    tracker = Tracker("dlib")
    a, b = l2_normalise(np.eye(4)[:1])[0], l2_normalise(np.eye(4)[1:2])[0]
    left, right = Box(0, 0, 50, 50), Box(200, 0, 250, 50)
    tracker.add(0, 0.0, [_obs(0, left, a), _obs(0, right, b)], [None, None], [None, None])

    links = tracker.link(1, [Box(205, 2, 255, 52), Box(3, 1, 53, 51)])
    tracks = tracker.add(1, 1.0, [_obs(1, Box(205, 2, 255, 52), None), _obs(1, Box(3, 1, 53, 51), None)], links, [None, None])

    assert [t.id for t in tracks] == [2, 1]
    assert tracker.conflicts() == [(0, 1)]


def test_reuse_skips_embedding_only_for_a_close_recent_track() -> None:
    tracker = Tracker("dlib")
    vec = l2_normalise(np.ones((1, 4)))[0]
    tracker.add(0, 0.0, [_obs(0, Box(0, 0, 50, 50), vec)], [None], [None])
    link = tracker.link(1, [Box(1, 1, 51, 51)])[0]

    assert not tracker.needs_embedding(1, Box(1, 1, 51, 51), link, scene_cut=False)
    assert tracker.needs_embedding(1, Box(1, 1, 51, 51), link, scene_cut=True)
    assert tracker.needs_embedding(1, Box(1, 1, 51, 51), None, scene_cut=False)


def test_a_lost_face_is_resumed_by_embedding() -> None:
    tracker = Tracker("dlib")
    vec = l2_normalise(np.ones((1, 4)))[0]
    tracker.add(0, 0.0, [_obs(0, Box(0, 0, 50, 50), vec)], [None], [None])
    tracker.add(1, 1.0, [], [], [])

    tracks = tracker.add(2, 2.0, [_obs(2, Box(300, 300, 350, 350), vec)], [None], [None])

    assert tracks[0].id == 1 and len(tracker.tracks) == 1


def test_a_different_face_in_the_same_place_starts_a_new_track() -> None:
    tracker = Tracker("dlib")
    a, b = np.eye(4, dtype=np.float32)[0], np.eye(4, dtype=np.float32)[1]
    tracker.add(0, 0.0, [_obs(0, Box(0, 0, 50, 50), a)], [None], [None])
    links = tracker.link(1, [Box(0, 0, 50, 50)])

    tracks = tracker.add(1, 1.0, [_obs(1, Box(0, 0, 50, 50), b)], links, [None])

    assert tracks[0].id == 2


def test_after_a_cut_overlap_alone_continues_no_track() -> None:
    # Someone else stands where the last shot's face was; their embeddings are fairly
    # alike (cosine 0.8: calibrated confidence above split_confidence), which overlap
    # must not turn into "the same person".
    tracker = Tracker("dlib")
    a = l2_normalise(np.array([[1.0, 0.0, 0.0, 0.0]]))[0]
    b = l2_normalise(np.array([[0.8, 0.6, 0.0, 0.0]]))[0]
    tracker.add(0, 0.0, [_obs(0, Box(0, 0, 50, 50), a)], [None], [None])

    links = tracker.link(1, [Box(0, 0, 50, 50)], scene_cut=True)
    tracks = tracker.add(1, 1.0, [_obs(1, Box(0, 0, 50, 50), b)], links, [None])

    assert links == [None]
    assert tracks[0].id == 2


def test_after_a_cut_the_same_face_is_resumed_by_its_embedding() -> None:
    tracker = Tracker("dlib")
    a = l2_normalise(np.ones((1, 4)))[0]
    tracker.add(0, 0.0, [_obs(0, Box(0, 0, 50, 50), a)], [None], [None])

    links = tracker.link(1, [Box(0, 0, 50, 50)], scene_cut=True)
    tracks = tracker.add(1, 1.0, [_obs(1, Box(0, 0, 50, 50), a)], links, [None])

    assert tracks[0].id == 1
