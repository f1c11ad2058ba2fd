"""VidiCore time codes (seconds <-> ``samples@timebase``, exact rational bases) and UTC date stamps.

Pure functions, no I/O; imports nothing from vidiplug but the error tree.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction

from vidiplug.errors import TimecodeError

# Longest time code or time base text we read; real ones are under 30 characters.
_MAX_TEXT = 64
_TIMEBASE_RE = re.compile(r"([0-9]+)(?::([0-9]+))?")
_TIMECODE_RE = re.compile(r"(-?[0-9]+)(?:@(.+))?")


@dataclass(frozen=True)
class TimeBase:
    """The duration of one sample, as an exact fraction of a second.

    ``TimeBase(Fraction(1, 25))`` is PAL: one sample is one 25 fps frame. Rates such as
    NTSC's 30000/1001 fps are not representable as floats, which is why the value is a
    ``Fraction``. Raises TimecodeError unless ``seconds_per_sample`` is positive.
    """

    seconds_per_sample: Fraction

    def __post_init__(self) -> None:
        if not isinstance(self.seconds_per_sample, Fraction):
            object.__setattr__(self, "seconds_per_sample", Fraction(self.seconds_per_sample))
        if self.seconds_per_sample <= 0:
            raise TimecodeError(f"time base {self.seconds_per_sample}: a sample must last more than 0 s")

    @property
    def rate(self) -> Fraction:
        """Samples per second (25 for PAL, 30000/1001 for NTSC)."""
        return 1 / self.seconds_per_sample


PAL = TimeBase(Fraction(1, 25))
NTSC = TimeBase(Fraction(1001, 30000))
NTSC30 = TimeBase(Fraction(1, 30))
MILLISECONDS = TimeBase(Fraction(1, 1000))
SECONDS = TimeBase(Fraction(1))

_NAMED = {"PAL": PAL, "NTSC": NTSC, "NTSC30": NTSC30}

# Frame rates that a container's average rate is snapped to when it is within
# _SNAP_TOLERANCE of one: "29.97" written as 2997/100 means NTSC, not a 100:2997 base.
_COMMON_RATES = tuple(
    Fraction(r) for r in ("24000/1001", "24", "25", "30000/1001", "30", "48", "50", "60000/1001", "60")
)
_SNAP_TOLERANCE = Fraction(1, 10_000)  # relative
# Irregular average rates (variable frame rate files) are approximated with at most
# this denominator, so the time base text stays short; sample counts stay exact to the ms.
_MAX_RATE_DENOMINATOR = 1001
# Average rates outside this range are not a frame grid a timeline can count in: a file
# with frames at 0 s, 1 s and 1,000,000 s averages 3/1000001 fps, a broken header may say
# 1e6 fps. Such media get milliseconds, which hold any presentation time to the ms.
_MIN_FRAME_RATE = Fraction(1)
_MAX_FRAME_RATE = Fraction(1000)


def parse_timebase(text: str) -> TimeBase:
    """The TimeBase named by VidiCore's text form.

    Accepts the constants ``PAL``, ``NTSC``, ``NTSC30`` and the inverse rational form
    ``{denominator}[:{numerator}]``: ``25`` is 1/25 s per sample, ``30000:1001`` is
    1001/30000 s, ``1000`` is milliseconds. Raises TimecodeError for anything else.
    """
    stripped = text.strip()
    if stripped in _NAMED:
        return _NAMED[stripped]
    match = _TIMEBASE_RE.fullmatch(stripped) if len(stripped) <= _MAX_TEXT else None
    if match is None:
        raise TimecodeError(f"time base {text!r}: expected PAL, NTSC, NTSC30 or DENOMINATOR[:NUMERATOR]")
    denominator = int(match.group(1))
    numerator = int(match.group(2)) if match.group(2) is not None else 1
    if denominator == 0 or numerator == 0:
        raise TimecodeError(f"time base {text!r}: numerator and denominator must be positive")
    return TimeBase(Fraction(numerator, denominator))


def format_timebase(timebase: TimeBase) -> str:
    """VidiCore's text for ``timebase``: a constant name where one matches, else ``den[:num]``.

    ``format_timebase(PAL) == "PAL"``, ``format_timebase(MILLISECONDS) == "1000"``,
    ``format_timebase(TimeBase(Fraction(1001, 24000))) == "24000:1001"``.
    """
    for name, named in _NAMED.items():
        if named == timebase:
            return name
    value = timebase.seconds_per_sample
    if value.numerator == 1:
        return str(value.denominator)
    return f"{value.denominator}:{value.numerator}"


def timebase_for_rate(frame_rate: Fraction | None) -> TimeBase:
    """The time base to write time codes in for media of ``frame_rate`` frames per second.

    One sample is one frame, so ``{frame}@base`` counts frames: 25 fps gives PAL,
    30000/1001 fps NTSC, 30 fps NTSC30, 50 fps the base ``50``. Rates within 0.01 % of
    a common broadcast rate are snapped to it (a container saying 29.97 means NTSC);
    other irregular rates are approximated to a denominator of at most 1001. Unknown,
    non-positive or degenerate rates (still images, ``None``, under 1 fps or over
    1000 fps: the average of frames far apart in time, or a broken header) give
    milliseconds, ``{ms}@1000``.
    """
    if frame_rate is None:
        return MILLISECONDS
    rate = Fraction(frame_rate)
    if not _MIN_FRAME_RATE <= rate <= _MAX_FRAME_RATE:
        return MILLISECONDS
    for common in _COMMON_RATES:
        if abs(rate - common) <= common * _SNAP_TOLERANCE:
            return TimeBase(1 / common)
    if rate.denominator > _MAX_RATE_DENOMINATOR:
        rate = rate.limit_denominator(_MAX_RATE_DENOMINATOR)
    return TimeBase(1 / rate)


def seconds_to_samples(seconds: float | Fraction, timebase: TimeBase) -> int:
    """The whole number of samples nearest to ``seconds`` (halves round up, toward +inf).

    Raises TimecodeError for infinite or NaN seconds (open ends have no sample count).
    """
    if isinstance(seconds, float) and not math.isfinite(seconds):
        raise TimecodeError(f"{seconds} s has no sample count")
    exact = Fraction(seconds) / timebase.seconds_per_sample
    return math.floor(exact + Fraction(1, 2))


def samples_to_seconds(samples: int, timebase: TimeBase) -> Fraction:
    """Exact seconds of ``samples`` samples of ``timebase``."""
    return samples * timebase.seconds_per_sample


def to_timecode(seconds: float | Fraction, timebase: TimeBase) -> str:
    """The time code for ``seconds`` in ``timebase``, rounded to the nearest sample.

    ``to_timecode(9.0, PAL) == "225@PAL"``, ``to_timecode(1.5, MILLISECONDS) == "1500@1000"``.
    Infinite seconds give VidiCore's open ends ``-INF`` and ``+INF``; NaN raises TimecodeError.
    """
    if isinstance(seconds, float) and math.isinf(seconds):
        return "+INF" if seconds > 0 else "-INF"
    return f"{seconds_to_samples(seconds, timebase)}@{format_timebase(timebase)}"


def parse_timecode(text: str) -> Fraction | float:
    """Seconds of a VidiCore time code: an exact ``Fraction``, or a float infinity for open ends.

    ``parse_timecode("225@PAL") == Fraction(9)``; ``"1500@1000"`` is 3/2 s; a code without
    ``@base`` counts seconds (``"12"`` is 12 s); ``"-INF"`` and ``"+INF"`` (also ``"INF"``)
    return ``float("-inf")`` and ``float("inf")``, so comparisons and sorting still work.
    Raises TimecodeError for anything else.
    """
    stripped = text.strip()
    if stripped == "-INF":
        return float("-inf")
    if stripped in ("+INF", "INF"):
        return float("inf")
    match = _TIMECODE_RE.fullmatch(stripped) if len(stripped) <= _MAX_TEXT else None
    if match is None:
        raise TimecodeError(f"time code {text!r}: expected SAMPLES[@TIMEBASE], -INF or +INF")
    base = match.group(2)
    try:
        timebase = SECONDS if base is None else parse_timebase(base)
    except TimecodeError as exc:
        raise TimecodeError(f"time code {text!r}: {exc}") from exc
    return samples_to_seconds(int(match.group(1)), timebase)


def to_iso_utc(moment: datetime) -> str:
    """``moment`` as ISO-8601 UTC to the second, ``2021-08-18T08:00:46Z``; a naive datetime is taken as UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
