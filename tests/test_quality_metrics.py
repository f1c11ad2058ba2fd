"""The quality benchmark's metrics (benchmarks/quality_metrics.py) on small hand-made inputs.

Each expected figure is worked out by hand in the test; nothing reads the shared data,
decodes video or loads an engine. The baseline's naming rule (quality_baseline.Namer) is
checked the same way, on 2-D unit vectors.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str) -> ModuleType:
    """A benchmarks/ module by file (the folder is a script folder, not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


qm = _load("quality_metrics")
baseline = _load("quality_baseline")
SecondTruth, Span, Track = qm.SecondTruth, qm.Span, qm.Track


def row(required: str = "", optional: str = "", everyone: bool = False) -> object:
    split = lambda text: frozenset(n for n in text.split(";") if n)  # noqa: E731
    return SecondTruth(split(required), split(optional), everyone)


def track(label: str | None, *times: float, area: float = 100.0, id: str = "t") -> object:
    return Track(id, label, tuple(times), tuple(area for _ in times))


def test_parse_truth_reads_names_optional_and_wide_shots() -> None:
    text = [
        "# comment",
        "# second,required,optional",
        "0,,all",
        "1,Ann;Bob,Cy",
        "2,,",
        "3,Babu Bhaiya,",
    ]
    truth = qm.parse_truth(text)
    assert truth[0] == row(everyone=True)
    assert truth[1] == row("Ann;Bob", "Cy")
    assert truth[2] == row()
    assert truth[3].required == frozenset({"Babu Bhaiya"})
    assert truth[3].solo == "Babu Bhaiya"
    assert truth[1].solo is None and truth[0].solo is None and truth[2].solo is None
    assert qm.shift_truth(truth, 10)[13] == truth[3]


def test_reported_names_are_spans_overlapping_the_second() -> None:
    spans = [Span("Ann", True, 1.0, 2.0), Span("u-1", False, 0.0, 9.0), Span("Bob", True, 2.5, 3.5)]
    assert qm.reported_names(spans, 0) == set()
    assert qm.reported_names(spans, 1) == {"Ann"}
    assert qm.reported_names(spans, 2) == {"Bob"}  # Ann's span ends where second 2 starts
    assert qm.reported_names(spans, 3) == {"Bob"}


def test_recall_and_precision_allow_one_second_either_way() -> None:
    truth = {0: row("Ann"), 1: row("Ann"), 2: row("Ann;Zed"), 3: row(), 4: row(), 5: row(), 6: row(everyone=True)}
    spans = [
        Span("Ann", True, 1.0, 2.0),  # second 1: covers Ann at 0, 1, 2
        Span("Bob", True, 4.0, 5.0),  # second 4: nobody at 3-5, wrong
        Span("Bob", True, 5.0, 6.0),  # second 5: second 6 is a wide shot, correct
        Span("u-1", False, 0.0, 7.0),  # unknowns are not names
    ]
    scored = qm.recall_precision(truth, spans, gallery={"Ann", "Bob"})  # Zed has no photo: not required
    assert (scored.hits, scored.required) == (3, 3)
    assert (scored.correct, scored.named) == (2, 3)
    assert scored.recall == 1.0 and scored.precision == pytest.approx(2 / 3) and scored.wrong == 1


def test_recall_misses_people_reported_too_far_away_and_precision_counts_seconds_past_the_truth() -> None:
    truth = {0: row("Ann"), 1: row(), 2: row(), 3: row("Ann")}
    spans = [Span("Ann", True, 1.0, 2.0), Span("Ann", True, 5.0, 7.0)]
    scored = qm.recall_precision(truth, spans, gallery={"Ann"})
    assert (scored.hits, scored.required) == (1, 2)  # 0 is covered by 1; 3 is not (2-4 report nothing)
    # Second 1 is allowed (Ann at 0); 5 and 6 are past the truth, which lists nobody there.
    assert (scored.correct, scored.named) == (1, 3)


def test_identity_switches_count_changes_over_each_persons_labelled_faces() -> None:
    truth = {0: row("Ann"), 1: row("Ann"), 2: row("Ann"), 3: row("", "Ann"), 4: row("Ann"), 5: row("Ann;Bob"),
             6: row("Bob"), 7: row("Bob"), 8: row("Bob")}
    tracks = [
        track("A", 0.6, 1.6, id="1"),
        track("B", 2.6, id="2"),  # switch A -> B
        track("A", 3.6, id="3"),  # switch B -> A
        track("X", 4.6, 5.0, id="4"),  # between rows 4 and 5 (two people): not labelled
        track("Z", 6.0, id="5"),  # between rows 5 and 6, across a cut: not labelled, not a switch
        track(None, 6.6, area=900.0, id="6"),  # unreported faces never count
        track("C", 6.6, 7.6, id="7"),
        track("D", 7.6, area=50.0, id="8"),  # smaller than C's face at 7.6: C covers the instant
    ]
    assert qm.face_person(truth, 6.0) is None
    assert qm.face_person(truth, 6.6) == "Bob"
    assert qm.identity_switches(truth, tracks) == 2


def test_track_purity_labels_faces_between_agreeing_annotated_frames() -> None:
    # Rows were annotated at second + 0.5; a face is labelled only between two agreeing rows.
    truth = {
        0: row("Ann"), 1: row("Ann"), 2: row("Ann"), 3: row("Bob"), 4: row("Ann;Bob"), 5: row(everyone=True),
        6: row("Bob"), 7: row("Bob"),
    }
    assert qm.labelled_faces(truth, track("X", 0.0, 1.0, 1.7)) == ["Ann", "Ann", "Ann"]
    # 3.0 lies between row 2 (Ann, at 2.5) and row 3 (Bob, at 3.5): a cut, nobody can say.
    assert qm.labelled_faces(truth, track("X", 3.0, 3.6, 4.5, 9.0)) == []
    pure = track("A", 0.0, 1.0, 3.0, id="1")  # Ann, Ann; the face at the cut is not labelled
    mixed = track("B", 1.7, 6.6, 7.2, id="2")  # Ann, Bob, Bob: 2 of 3
    blind = track("C", 3.6, 4.5, 9.0, id="3")  # nothing labelled: not counted
    purity = qm.track_purity(truth, [pure, mixed, blind])
    assert purity.minimum == pytest.approx(2 / 3)
    assert purity.mean == pytest.approx((2 + 2) / (2 + 3))
    assert (purity.impure, purity.tracks, purity.faces) == (1, 2, 5)
    assert qm.track_purity(truth, [blind]).minimum is None


def test_bcubed_matches_the_hand_computed_example() -> None:
    # Items: cluster X holds Ann, Ann, Bob; cluster Y holds Bob; one unreported Ann face.
    truth = {0: row("Ann"), 1: row("Ann"), 2: row("Ann"), 3: row("Bob"), 4: row("Bob"), 5: row("Bob"),
             6: row("Ann"), 7: row("Ann")}
    tracks = [track("X", 0.6, 1.6, 3.6, id="1"), track("Y", 4.6, id="2"), track(None, 6.6, id="3")]
    scored = qm.bcubed(truth, tracks)
    # Precision: Ann in X 2/3 (twice), Bob in X 1/3, Bob in Y 1 -> (2/3 + 2/3 + 1/3 + 1) / 4
    assert scored.precision == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)
    # Recall: each Ann shares X with both Anns (1), each Bob with one of two Bobs (1/2)
    assert scored.recall == pytest.approx((1 + 1 + 0.5 + 0.5) / 4)
    assert (scored.items, scored.dropped) == (4, 1)


def test_bcubed_is_perfect_for_one_cluster_per_person_across_tracks() -> None:
    truth = {0: row("Ann"), 1: row("Bob"), 2: row("Ann")}
    tracks = [track("F1", 0.0, id="1"), track("F2", 1.0, id="2"), track("F1", 2.0, id="3")]
    scored = qm.bcubed(truth, tracks)
    assert (scored.precision, scored.recall) == (1.0, 1.0)
    assert qm.bcubed(truth, []).precision is None


def test_true_people_rates_and_photo_score() -> None:
    assert qm.true_people({0: row("Ann", "Bob"), 1: row(everyone=True), 2: row("Cy")}) == {"Ann", "Bob", "Cy"}
    assert qm.rate(1, 4) == 0.25 and qm.rate(3, 0) is None
    assert qm.realtime_factor(10.0, 2.0) == 5.0
    score = qm.PhotoScore(top1_correct=9, top1_probes=10, false_accepts=1, stranger_probes=20)
    assert score.top1 == 0.9 and score.false_accept_rate == 0.05


def unit(degrees: float) -> np.ndarray:
    radians = np.deg2rad(degrees)
    return np.array([np.cos(radians), np.sin(radians)], np.float32)


def test_baseline_names_the_nearest_gallery_vector_under_0_6_and_groups_the_rest() -> None:
    # Chord distance between unit vectors d degrees apart is 2 sin(d / 2): 0.6 at about 34.9 degrees.
    namer = baseline.Namer(np.stack([unit(0), unit(90)]), ["Ann", "Bob"], distance=0.6)
    assert namer.name(unit(20)) == ("Ann", True)
    assert namer.name(unit(80)) == ("Bob", True)
    assert namer.name(unit(180)) == ("unknown-1", False)  # far from everyone: new group
    assert namer.name(unit(210)) == ("unknown-1", False)  # 30 degrees from the first unknown
    assert namer.name(unit(250)) == ("unknown-2", False)  # 40 degrees from 210: too far, new group
    assert namer.name(unit(232)) == ("unknown-2", False)  # 22 from 210 but 18 from 250: the nearest decides
    assert namer.groups == 2
    assert baseline.nearest_name(unit(10), np.stack([unit(0), unit(90)]), ["Ann", "Bob"], 0.6) == "Ann"
    assert baseline.nearest_name(unit(45), np.stack([unit(0), unit(90)]), ["Ann", "Bob"], 0.6) is None


def test_baseline_tolerance_is_face_recognitions_0_6_on_raw_descriptors() -> None:
    # 0.6 / 1.44 between unit vectors: about 24 degrees apart (chord 2 sin 12 = 0.416).
    assert baseline.DISTANCE == pytest.approx(0.4167, abs=1e-3)  # noqa: SIM300 - approx reads as the expected side
    namer = baseline.Namer(np.stack([unit(0)]), ["Ann"])
    assert namer.name(unit(20)) == ("Ann", True)
    assert namer.name(unit(30)) == ("unknown-1", False)


def test_labelled_photos_merge_a_persons_aliases_and_skip_group_photos() -> None:
    data = _load("quality_data")
    rows = [
        {"file": "a.jpg", "category": "image", "faces": "1", "identity": "friends:Rachel"},
        {"file": "b.jpg", "category": "image", "faces": "1", "identity": "deepface_person_G"},
        {"file": "b.jpg", "category": "image", "faces": "1", "identity": "deepface_person_G"},  # listed twice
        {"file": "c.jpg", "category": "image", "faces": "3", "identity": "friends:Ross"},
    ]
    photos = data.labelled_photos(rows)
    assert [(p.file, p.person) for p in photos] == [("a.jpg", "friends:Rachel"), ("b.jpg", "friends:Rachel")]
