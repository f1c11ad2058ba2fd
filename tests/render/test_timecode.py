from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from fractions import Fraction

import pytest

from vidiplug.errors import TimecodeError, VidiplugError
from vidiplug.render.timecode import (
    MILLISECONDS,
    NTSC,
    NTSC30,
    PAL,
    TimeBase,
    format_timebase,
    parse_timebase,
    parse_timecode,
    samples_to_seconds,
    seconds_to_samples,
    timebase_for_rate,
    to_iso_utc,
    to_timecode,
)


def test_kb_example_225_at_pal_is_nine_seconds() -> None:
    assert parse_timecode("225@PAL") == Fraction(9)
    assert to_timecode(9.0, PAL) == "225@PAL"


@pytest.mark.parametrize(
    ("text", "seconds_per_sample"),
    [
        ("PAL", Fraction(1, 25)),
        ("NTSC", Fraction(1001, 30000)),
        ("NTSC30", Fraction(1, 30)),
        ("25", Fraction(1, 25)),
        ("30000:1001", Fraction(1001, 30000)),
        ("1000", Fraction(1, 1000)),
        ("48000", Fraction(1, 48000)),
    ],
)
def test_time_bases_parse_to_exact_seconds_per_sample(text: str, seconds_per_sample: Fraction) -> None:
    assert parse_timebase(text).seconds_per_sample == seconds_per_sample


@pytest.mark.parametrize(
    ("timebase", "text"),
    [(PAL, "PAL"), (NTSC, "NTSC"), (NTSC30, "NTSC30"), (MILLISECONDS, "1000"),
     (TimeBase(Fraction(1001, 24000)), "24000:1001"), (TimeBase(Fraction(1, 50)), "50")],
)
def test_time_bases_format_as_constant_names_or_inverse_rationals(timebase: TimeBase, text: str) -> None:
    assert format_timebase(timebase) == text
    assert parse_timebase(text) == timebase


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (Fraction(25), PAL),
        (Fraction(30000, 1001), NTSC),
        (Fraction("29.97"), NTSC),
        (Fraction(30), NTSC30),
        (Fraction(50), TimeBase(Fraction(1, 50))),
        (Fraction(24000, 1001), TimeBase(Fraction(1001, 24000))),
        (None, MILLISECONDS),
        (Fraction(0), MILLISECONDS),
    ],
)
def test_frame_rate_picks_the_native_frame_base(rate: Fraction | None, expected: TimeBase) -> None:
    assert timebase_for_rate(rate) == expected


@pytest.mark.parametrize(
    "rate",
    [Fraction(3, 1_000_001), Fraction(1, 1_000_000), Fraction(1, 2), Fraction(-25), Fraction(1_000_000),
     Fraction(48_000)],
    ids=["frames-at-0-1-and-1e6-s", "one-per-1e6-s", "half-fps", "negative", "1e6-fps", "48000-fps"],
)
def test_degenerate_frame_rate_counts_in_milliseconds(rate: Fraction) -> None:
    timebase = timebase_for_rate(rate)

    assert timebase == MILLISECONDS
    assert to_timecode(1_000_000.0, timebase) == "1000000000@1000"


@pytest.mark.parametrize("rate", [Fraction(1), Fraction(1000), Fraction(1001, 1000), Fraction(999_999, 1000)])
def test_frame_rates_at_the_edges_of_the_sane_range_keep_a_frame_base(rate: Fraction) -> None:
    timebase = timebase_for_rate(rate)

    assert timebase.seconds_per_sample > 0
    assert abs(timebase.rate - rate) <= rate / 10_000


def test_irregular_average_rate_gets_a_short_time_base() -> None:
    timebase = timebase_for_rate(Fraction(2_396_017, 100_000))

    assert timebase.seconds_per_sample.numerator <= 1001
    assert abs(float(timebase.rate) - 23.96017) < 1e-3


@pytest.mark.parametrize("timebase", [PAL, NTSC, NTSC30, MILLISECONDS], ids=format_timebase)
@pytest.mark.parametrize("samples", [0, 1, 29, 30, 1001, 123_456, 8_640_000])
def test_sample_counts_round_trip_through_float_seconds(timebase: TimeBase, samples: int) -> None:
    seconds = float(samples_to_seconds(samples, timebase))

    code = to_timecode(seconds, timebase)

    assert code == f"{samples}@{format_timebase(timebase)}"
    assert parse_timecode(code) == samples_to_seconds(samples, timebase)


def test_thirty_ntsc_frames_last_1_001_seconds() -> None:
    assert to_timecode(1.001, NTSC) == "30@NTSC"
    assert parse_timecode("30@NTSC") == Fraction(1001, 1000)


@pytest.mark.parametrize(
    ("seconds", "timebase", "code"),
    [
        (0.019, PAL, "0@PAL"),
        (0.021, PAL, "1@PAL"),
        (Fraction(1, 50), PAL, "1@PAL"),
        (Fraction(3, 50), PAL, "2@PAL"),
        (1.0004, MILLISECONDS, "1000@1000"),
        (1.0006, MILLISECONDS, "1001@1000"),
        (Fraction(1001, 60000), NTSC, "1@NTSC"),
    ],
)
def test_seconds_round_to_the_nearest_sample_halves_up(
    seconds: float | Fraction, timebase: TimeBase, code: str
) -> None:
    assert to_timecode(seconds, timebase) == code


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1500@1000", Fraction(3, 2)), ("2040000@1000000", Fraction(51, 25)), ("48000@48000", Fraction(1)),
     ("12", Fraction(12)), (" 50@PAL ", Fraction(2)), ("300@30000:1001", Fraction(1001, 100))],
)
def test_time_codes_from_the_reference_parse_exactly(text: str, seconds: Fraction) -> None:
    assert parse_timecode(text) == seconds


def test_open_ends_are_float_infinities_both_ways() -> None:
    assert parse_timecode("-INF") == -math.inf
    assert parse_timecode("+INF") == math.inf
    assert to_timecode(-math.inf, PAL) == "-INF"
    assert to_timecode(math.inf, PAL) == "+INF"


@pytest.mark.parametrize(
    "text", ["", "abc", "12@", "@PAL", "12@0", "12@25:0", "12@PALX", "1.5@PAL", "12@pal", "INF@PAL", "1" * 100]
)
def test_malformed_time_codes_raise_timecode_error(text: str) -> None:
    with pytest.raises(TimecodeError, match="time"):
        parse_timecode(text)


@pytest.mark.parametrize("text", ["", "0", "25:0", "-25", "1/25", "SECAM"])
def test_malformed_time_bases_raise_timecode_error(text: str) -> None:
    with pytest.raises(TimecodeError):
        parse_timebase(text)


def test_timecode_error_is_a_vidiplug_error() -> None:
    assert issubclass(TimecodeError, VidiplugError)


def test_nan_seconds_have_no_time_code() -> None:
    with pytest.raises(TimecodeError):
        to_timecode(math.nan, PAL)
    with pytest.raises(TimecodeError):
        seconds_to_samples(math.inf, PAL)


def test_time_base_must_be_positive() -> None:
    with pytest.raises(TimecodeError):
        TimeBase(Fraction(0))


def test_utc_stamps_drop_microseconds_and_convert_zones() -> None:
    plus_two = timezone(timedelta(hours=2))

    assert to_iso_utc(datetime(2021, 8, 18, 10, 0, 46, 999_999, tzinfo=plus_two)) == "2021-08-18T08:00:46Z"
    assert to_iso_utc(datetime(2021, 8, 18, 8, 0, 46)) == "2021-08-18T08:00:46Z"
