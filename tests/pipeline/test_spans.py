from __future__ import annotations

from vidiplug.engine.base import Box
from vidiplug.pipeline.spans import Sighting, consolidate

BOX = Box(0, 0, 10, 10)


def _s(t: float, c: float = 0.9) -> Sighting:
    return Sighting(t, c, BOX)


def test_consecutive_samples_join_into_one_appearance() -> None:
    spans = consolidate([_s(3), _s(4), _s(5)], interval_s=1.0, duration_s=10)

    assert [(a.start_s, a.end_s) for a in spans] == [(3, 6)]


def test_one_missed_sample_does_not_split() -> None:
    spans = consolidate([_s(3), _s(5)], interval_s=1.0, duration_s=10)

    assert len(spans) == 1


def test_a_longer_gap_splits() -> None:
    spans = consolidate([_s(1), _s(2), _s(6)], interval_s=1.0, duration_s=10)

    assert [(a.start_s, a.end_s) for a in spans] == [(1, 3), (6, 7)]


def test_max_span_splits_long_presences() -> None:
    spans = consolidate([_s(float(t)) for t in range(10)], interval_s=1.0, duration_s=10, max_span_s=4)

    assert [(a.start_s, a.end_s) for a in spans] == [(0, 4), (4, 8), (8, 10)]


def test_end_is_capped_at_duration_and_best_confidence_kept() -> None:
    spans = consolidate([_s(8, 0.6), _s(9, 0.8)], interval_s=1.0, duration_s=9.5)

    assert spans[0].end_s == 9.5 and spans[0].confidence == 0.8 and spans[0].best_time_s == 9
