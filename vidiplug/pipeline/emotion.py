"""Emotion options (seed 003's modes and aggregate windows) and the window arithmetic over face records.

Pure functions of the analysis record: the scores themselves come from the expression model
(``engine/emotion.py``) through each face record's ``attributes["emotion"]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vidiplug.engine.emotion import dominant
from vidiplug.errors import ParameterError
from vidiplug.pipeline.results import FaceRecord

MODES = ("none", "per-face", "aggregate")
# Seed 003's aggregate limits, in milliseconds: (default, min, max).
WINDOW_MS = (500.0, 250.0, 2000.0)
INTERVAL_MS = (500.0, 250.0, 1000.0)
WINDOW_OPTION, INTERVAL_OPTION, MODE_OPTION = "AggregateEmotionWindowMs", "AggregateEmotionIntervalMs", "Emotion"


@dataclass(frozen=True)
class EmotionOptions:
    """What emotion output to produce.

    ``mode``: "none" (default), "per-face" (scores on every face record and the seed's
    PerFaceEmotion document) or "aggregate" (the seed's AggregateEmotion document).
    ``window_ms``: length of media each aggregate result covers (seed 003's
    AggregateEmotionWindowMs, 250-2000, default 500); ``interval_ms``: how often an
    aggregate result is produced (AggregateEmotionIntervalMs, 250-1000, default 500).
    Raises ParameterError naming the seed's option when a value is out of its limits.
    """

    mode: str = "none"
    window_ms: float = WINDOW_MS[0]
    interval_ms: float = INTERVAL_MS[0]

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ParameterError(MODE_OPTION, self.mode, f"must be one of {', '.join(MODES)}")
        for option, value, (_, low, high) in ((WINDOW_OPTION, self.window_ms, WINDOW_MS),
                                              (INTERVAL_OPTION, self.interval_ms, INTERVAL_MS)):
            if not (isinstance(value, int | float) and math.isfinite(value) and low <= value <= high):
                raise ParameterError(option, value, f"must be between {low:g} and {high:g} ms")

    @property
    def enabled(self) -> bool:
        return self.mode != "none"


@dataclass(frozen=True)
class EmotionWindow:
    """One aggregate result: faces sampled in [start_s, start_s + window) and what they show.

    ``distribution``: per class, the share of the window's faces whose dominant emotion it
    is; ``mean_scores``: per class, the mean of the faces' scores (zeros when ``faces`` is 0).
    Only the model's classes appear.
    """

    start_s: float
    faces: int
    distribution: Mapping[str, float]
    mean_scores: Mapping[str, float]


def face_scores(face: FaceRecord) -> Mapping[str, float] | None:
    """The face's emotion scores, or None when it was not scored."""
    scores = face.attributes.get("emotion")
    return scores if isinstance(scores, Mapping) else None


def aggregate_windows(
    faces: Sequence[FaceRecord], classes: Sequence[str], duration_s: float, options: EmotionOptions
) -> list[EmotionWindow]:
    """Aggregate results every ``options.interval_ms`` from 0 to ``duration_s``, each over ``options.window_ms``.

    A face sampled at t counts in every window with start <= t < start + window; faces
    without scores are left out. ``classes`` are the model's classes (in output order).
    """
    interval_s, window_s = options.interval_ms / 1000, options.window_ms / 1000
    count = max(1, math.ceil(round(duration_s / interval_s, 6)))
    scored = [(face.time_s, scores) for face in faces if (scores := face_scores(face)) is not None]
    windows = []
    for k in range(count):
        start = k * interval_s
        inside = [scores for time_s, scores in scored if start - 1e-9 <= time_s < start + window_s - 1e-9]
        n = len(inside)
        tops = [dominant(scores) for scores in inside]
        distribution = {c: (tops.count(c) / n if n else 0.0) for c in classes}
        means = {c: (sum(float(s.get(c, 0.0)) for s in inside) / n if n else 0.0) for c in classes}
        windows.append(EmotionWindow(round(start, 6), n, distribution, means))
    return windows
