from __future__ import annotations

from fractions import Fraction

import pytest

from vidiplug.media.frames import MAX_HALF_FRAME_S, sampling_tolerance_s
from vidiplug.media.probe import regular_frame_rate


@pytest.mark.parametrize(
    ("average", "base"),
    [(Fraction(25), Fraction(25)), (Fraction(30000, 1001), Fraction(30000, 1001)), (Fraction(25), Fraction(50)),
     (Fraction(25), None)],
    ids=["pal", "ntsc", "interlaced-fields", "no-base-rate"],
)
def test_constant_rate_keeps_its_average_as_the_frame_rate(average: Fraction, base: Fraction | None) -> None:
    assert regular_frame_rate(average, base) == average


@pytest.mark.parametrize(
    ("average", "base"),
    [(Fraction(3, 1_000_001), Fraction(1)), (Fraction(1350, 61), Fraction(30)), (Fraction(30000), Fraction(1000)),
     (None, Fraction(25)), (Fraction(0), Fraction(25))],
    ids=["frames-at-0-1-1e6-s", "phone-vfr", "absurd-header", "no-average", "zero-average"],
)
def test_rate_that_is_no_grid_of_the_frames_gives_no_frame_rate(average: Fraction | None, base: Fraction) -> None:
    assert regular_frame_rate(average, base) is None


def test_sampling_tolerance_is_half_a_frame_of_the_faster_rate_and_capped() -> None:
    assert sampling_tolerance_s(Fraction(25), Fraction(25)) == pytest.approx(0.02)
    assert sampling_tolerance_s(Fraction(20, 17), Fraction(30)) == pytest.approx(1 / 60)
    assert sampling_tolerance_s(Fraction(3, 1_000_001), Fraction(1)) == MAX_HALF_FRAME_S
    assert sampling_tolerance_s(None, None) == 0.0
