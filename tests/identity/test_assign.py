from __future__ import annotations

import numpy as np

from vidiplug.identity.assign import assign_exclusive


def test_two_faces_in_one_frame_never_get_the_same_identity() -> None:
    # Two look-alike relatives on screen together; the gallery only knows one of them
    # well, so both faces' best match is identity 0.
    scores = np.array([[0.95, 0.10], [0.90, 0.55]], np.float32)

    chosen = assign_exclusive(scores, conflicts=[(0, 1)], threshold=0.5)

    assert chosen == [0, 1]


def test_without_a_conflict_both_tracks_may_be_the_same_person() -> None:
    scores = np.array([[0.95, 0.10], [0.90, 0.55]], np.float32)

    assert assign_exclusive(scores, conflicts=[], threshold=0.5) == [0, 0]


def test_below_threshold_stays_unassigned() -> None:
    scores = np.array([[0.95, 0.1], [0.9, 0.3]], np.float32)

    assert assign_exclusive(scores, conflicts=[(0, 1)], threshold=0.5) == [0, None]
