"""The analysis record's pure steps (pipeline/people.py) and the one place decisions are recorded (record.py).

Hand-made tracks and decisions: no engine, no media.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.base import Box, EngineInfo
from vidiplug.engine.dlib import RULES
from vidiplug.identity.gallery import Gallery, Identity, IdentityKind
from vidiplug.pipeline.identify import Decision
from vidiplug.pipeline.people import identity_facts, people_from_records, track_records
from vidiplug.pipeline.record import record_decisions
from vidiplug.pipeline.tracking import Observation, Track

ENGINE = EngineInfo(name="dlib", model="m", version="v", dim=4, rules=RULES)
ANN = Identity("ann-id", "Ann", IdentityKind.KNOWN)
STRANGER = Identity("stranger-id", None, IdentityKind.UNKNOWN)
HIDDEN = Identity("hidden-id", None, IdentityKind.UNKNOWN, suppressed=True)


def track(track_id: int, times: Sequence[float], *, crop: bool = True) -> Track:
    vector = np.zeros(4, np.float32)
    vector[track_id % 4] = 1.0
    made = Track(id=track_id, shot=0, observations=[
        Observation(int(t), t, Box(10.0, 10.0, 60.0, 70.0), 1.5, 0.5 + 0.01 * k, vector)
        for k, t in enumerate(times)
    ])
    if crop:
        made.best_crop, made.best_quality = np.full((8, 8, 3), 128, np.uint8), 0.5
    return made


def test_records_carry_the_decision_on_every_face_and_people_are_consolidated_from_them() -> None:
    decisions = [
        Decision(track(1, [0.0, 1.0, 2.0]), ANN, 0.9),
        Decision(track(2, [5.0]), ANN, 0.7),  # a second track of Ann, later
        Decision(track(3, [1.0, 2.0]), STRANGER, 1.0, is_new=True),
        Decision(track(4, [3.0]), HIDDEN, 0.8),  # suppressed: matched, never reported
        Decision(track(5, [4.0]), None, 0.0),  # a doubtful unknown: not reported
    ]

    records = track_records(decisions)

    assert [r.fingerprint for r in records] == ["ann-id", "ann-id", "stranger-id", None, None]
    assert [f.time_s for f in records[0].faces] == [0.0, 1.0, 2.0] and records[0].times_s == (0.0, 1.0, 2.0)
    assert {(f.track_id, f.fingerprint, f.score) for f in records[1].faces} == {(2, "ann-id", 0.7)}
    assert all(f.fingerprint is None and f.score == 0.0 for f in records[3].faces)
    assert dict(records[0].faces[0].attributes) == {}
    people = people_from_records(records, identity_facts(decisions), {"ann-id": b"jpeg"},
                                 interval_s=1.0, duration_s=10.0)
    assert [(p.fingerprint, p.name, p.known, p.is_new) for p in people] == [
        ("ann-id", "Ann", True, False), ("stranger-id", None, False, True)]
    ann = people[0]
    assert ann.confidence == 0.9 and ann.thumbnail_jpeg == b"jpeg"
    # 0-2 s joins into [0, 3); 5 s is two missed samples later: its own appearance [5, 6).
    assert [(a.start_s, a.end_s, a.confidence) for a in ann.appearances] == [(0.0, 3.0, 0.9), (5.0, 6.0, 0.7)]
    assert people[1].thumbnail_jpeg is None


def test_people_are_reconsolidated_from_the_same_record_with_other_settings() -> None:
    decisions = [Decision(track(1, [0.0, 1.0, 2.0, 3.0]), ANN, 0.9)]
    records = track_records(decisions)
    facts = identity_facts(decisions)

    whole = people_from_records(records, facts, {}, interval_s=1.0, duration_s=10.0)
    split = people_from_records(records, facts, {}, interval_s=1.0, duration_s=10.0, max_span_s=2.0)

    assert [(a.start_s, a.end_s) for a in whole[0].appearances] == [(0.0, 4.0)]
    assert [(a.start_s, a.end_s) for a in split[0].appearances] == [(0.0, 2.0), (2.0, 4.0)]


class RecordingStore:
    """Stands in for the identity store; ``winner`` makes create_unknown answer with another identity,
    as a store shared by several instances does when another one created this person first."""

    def __init__(self, winner: str | None = None) -> None:
        self.winner = winner
        self.created: list[tuple[str | None, int, bytes | None]] = []
        self.added: list[tuple[str, int]] = []

    def create_unknown(self, info: EngineInfo, vectors: NDArray[np.float32], qualities: Sequence[float],
                       thumbnail_jpeg: bytes | None, identity_id: str | None = None, *,
                       join_similarity: float | None = None, exclude: Collection[str] = (),
                       keep_best: int | None = None) -> Identity:
        self.created.append((identity_id, len(vectors), thumbnail_jpeg))
        self.excluded = set(exclude)
        return Identity(self.winner or identity_id or "x", None, IdentityKind.UNKNOWN)

    def add_vectors(self, identity_id: str, info: EngineInfo, vectors: NDArray[np.float32],
                    qualities: Sequence[float], source: str | None = None, keep_best: int | None = None) -> None:
        self.added.append((identity_id, len(vectors)))


def test_recording_writes_new_and_matched_unknowns_once_and_never_known_or_hidden_people() -> None:
    new = Identity("new-id", None, IdentityKind.UNKNOWN)
    decisions = [
        Decision(track(1, [0.0, 1.0]), ANN, 0.9),
        Decision(track(2, [0.0, 1.0, 2.0]), new, 1.0, is_new=True),
        Decision(track(3, [5.0]), new, 1.0, is_new=True),  # the same new person in a later shot
        Decision(track(4, [3.0]), STRANGER, 0.8),
        Decision(track(5, [4.0]), HIDDEN, 0.8),
    ]
    store = RecordingStore()

    recorded = record_decisions(decisions, ENGINE, store=store, keep_vectors=3,  # type: ignore[arg-type]
                                judged={"ann-id", "new-id", "stranger-id"}, join_similarity=0.95)

    assert [(i, n) for i, n, _ in store.created] == [("new-id", 3)]  # best 3 of its 4 faces, one fingerprint
    assert store.excluded == {"ann-id", "new-id", "stranger-id"}  # never joined to what this analysis judged
    assert store.created[0][2] is not None and store.created[0][2][:2] == b"\xff\xd8"  # a JPEG thumbnail
    assert store.added == [("stranger-id", 1)]
    assert set(recorded.thumbnails) == {"ann-id", "new-id", "stranger-id"}
    assert [d.identity.id if d.identity else None for d in recorded.decisions] == [
        "ann-id", "new-id", "new-id", "stranger-id", "hidden-id"]


def test_a_matched_unknown_is_given_only_faces_its_stored_vectors_do_not_already_hold() -> None:
    seen = track(4, [3.0])  # its vector is unit axis 0, stored already
    fresh = track(6, [6.0])  # unit axis 2: nothing like it is stored
    gallery = Gallery(ENGINE)
    gallery.add(STRANGER, seen.observations[0].embedding[None, :])
    store = RecordingStore()

    record_decisions([Decision(seen, STRANGER, 0.8)], ENGINE, store=store,  # type: ignore[arg-type]
                     keep_vectors=3, gallery=gallery)
    assert store.added == []  # the same media analysed again adds nothing (nothing stored is pushed out)

    record_decisions([Decision(seen, STRANGER, 0.8), Decision(fresh, STRANGER, 0.8)], ENGINE,
                     store=store, keep_vectors=3, gallery=gallery)  # type: ignore[arg-type]
    assert store.added == [("stranger-id", 1)]  # only the new angle


def test_a_new_fingerprint_the_store_answers_with_another_identity_is_reported_as_that_one() -> None:
    new = Identity("mine", None, IdentityKind.UNKNOWN)
    decisions = [Decision(track(1, [0.0]), new, 1.0, is_new=True), Decision(track(2, [1.0]), ANN, 0.9)]

    recorded = record_decisions(decisions, ENGINE, store=RecordingStore(winner="theirs"),  # type: ignore[arg-type]
                                keep_vectors=5)

    moved = recorded.decisions[0]
    assert moved.identity is not None and moved.identity.id == "theirs" and not moved.is_new
    assert recorded.decisions[1] is decisions[1]
    assert "theirs" in recorded.thumbnails and "mine" not in recorded.thumbnails
    (record, _) = track_records(recorded.decisions)
    assert record.fingerprint == "theirs"


def test_without_a_store_recording_only_makes_thumbnails() -> None:
    decisions = [Decision(track(1, [0.0], crop=False), ANN, 0.9)]

    recorded = record_decisions(decisions, ENGINE, store=None, keep_vectors=5)

    assert recorded.thumbnails == {"ann-id": None}
    assert recorded.decisions == tuple(decisions)


def test_deciding_imports_no_store_and_no_picture_code() -> None:
    import vidiplug.pipeline.identify as identify

    names = set(vars(identify))
    assert not names & {"IdentityStore", "Image", "io"}, names & {"IdentityStore", "Image", "io"}
