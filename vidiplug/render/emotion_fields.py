"""The emotion a face timespan shows, from its face records' ``attributes["emotion"]``.

Pure functions, no I/O. The contract (issue 15): a face record may carry
``attributes["emotion"]``, a mapping of class name (neutral, happiness, surprise, sadness,
anger, disgust, fear, contempt; a class the model lacks is absent) to a score in [0, 1].
Records without it are ignored; a span none of whose records has it shows no emotion.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vidiplug.pipeline.results import FaceRecord

EMOTION_ATTRIBUTE = "emotion"
EMOTION_CLASSES = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")
NONE, PER_FACE, AGGREGATE = "none", "per-face", "aggregate"
EMOTION_MODES = (NONE, PER_FACE, AGGREGATE)


@dataclass(frozen=True)
class SpanEmotion:
    """A timespan's emotion: its class name and that class's score (0-1)."""

    value: str
    confidence: float


def emotion_scores(face: FaceRecord) -> dict[str, float] | None:
    """``face``'s emotion scores (known classes only, finite numbers), or None when it has none."""
    raw = face.attributes.get(EMOTION_ATTRIBUTE)
    if not isinstance(raw, Mapping):
        return None
    scores: dict[str, float] = {}
    for name in EMOTION_CLASSES:
        value = raw.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= float(value) <= 1.0:
            scores[name] = float(value)
    return scores or None


def dominant(scores: Mapping[str, float]) -> tuple[str, float]:
    """The highest-scoring class and its score (ties: the class listed first in EMOTION_CLASSES)."""
    name = max(scores, key=lambda n: (scores[n], -EMOTION_CLASSES.index(n)))
    return name, scores[name]


def span_emotion(faces: Iterable[FaceRecord], mode: str) -> SpanEmotion | None:
    """The emotion of a timespan whose face records are ``faces``.

    ``per-face``: the class that is dominant in most records (ties: the higher mean score
    as dominant, then EMOTION_CLASSES order), with the mean of its score over the records
    where it is dominant. ``aggregate``: the class with the highest mean score over all
    records, with that mean (a class a record lacks counts 0 there). ``none``, or no
    record with emotion: None.
    """
    if mode == NONE:
        return None
    all_scores = [s for s in (emotion_scores(f) for f in faces) if s is not None]
    if not all_scores:
        return None
    if mode == AGGREGATE:
        names = {n for s in all_scores for n in s}
        means = {n: sum(s.get(n, 0.0) for s in all_scores) / len(all_scores) for n in names}
        value, score = dominant(means)
        return SpanEmotion(value, score)
    winners = [dominant(s) for s in all_scores]
    counts = Counter(name for name, _ in winners)
    means = {n: sum(v for m, v in winners if m == n) / counts[n] for n in counts}
    value = max(counts, key=lambda n: (counts[n], means[n], -EMOTION_CLASSES.index(n)))
    return SpanEmotion(value, means[value])


def check_mode(mode: str) -> str:
    """``mode`` if it is one of EMOTION_MODES; ValueError otherwise (callers name their parameter)."""
    if mode not in EMOTION_MODES:
        raise ValueError(f"must be one of {', '.join(EMOTION_MODES)}")
    return mode
