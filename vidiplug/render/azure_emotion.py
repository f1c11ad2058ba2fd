"""Seed 003's emotion documents (Azure Media Face Detector): PerFaceEmotion and AggregateEmotion JSON.

Both have the seed's header (``version``, ``timescale``, ``offset``, ``framerate``,
``width``, ``height``) and ``fragments`` of ``start``/``duration`` ticks with an
``interval`` and per-interval ``events``; start / timescale = seconds, seconds x
framerate = frames. The timescale counts 1001 ticks per frame for NTSC rates (29.97 fps:
30000, as in the seed) and 1000 otherwise. Fragments without faces (per face) have no
``interval``/``events``, as in the seed. Beyond the seed, ``model`` records the expression
model, its licence and version, and ``missingClasses`` the seed's classes it lacks (absent
from every score map, never filled in).
"""

from __future__ import annotations

import json
import math
from typing import Any

from vidiplug.pipeline.emotion import EmotionOptions, aggregate_windows, face_scores
from vidiplug.pipeline.results import AnalysisResult, FaceRecord

FRAGMENT_S = 2.0  # the seed's fragments are 60060 ticks at 30000/s: ~2 s
DIGITS = 6


def timescale_of(fps: float) -> tuple[int, int]:
    """(ticks per second, ticks per frame) for ``fps``: 1001 ticks a frame at NTSC rates, else 1000."""
    if fps <= 0:
        return 1000, 1000
    ntsc = fps * 1.001
    if abs(ntsc - round(ntsc)) < 0.01 and abs(fps - round(fps)) > 0.01:
        return round(ntsc) * 1000, 1001
    return round(fps * 1000), 1000


def _header(result: AnalysisResult) -> dict[str, Any]:
    media = result.media
    timescale, _ = timescale_of(media.fps)
    header: dict[str, Any] = {
        "version": 1, "timescale": timescale, "offset": 0, "framerate": round(media.fps, 3),
        "width": media.width, "height": media.height,
    }
    if result.emotion is not None:
        header["model"] = result.emotion.as_dict()
        header["missingClasses"] = list(result.emotion.missing_classes)
    return header


def _round(scores: dict[str, float] | Any) -> dict[str, float]:
    return {name: round(float(value), DIGITS) for name, value in scores.items()}


def _face_event(face: FaceRecord, width: int, height: int, scores: Any) -> dict[str, Any]:
    box = face.box
    return {
        "id": face.track_id,
        "x": round(box.x1 / width, DIGITS), "y": round(box.y1 / height, DIGITS),
        "width": round(box.width / width, DIGITS), "height": round(box.height / height, DIGITS),
        "scores": _round(scores),
    }


def per_face_emotion_document(result: AnalysisResult) -> dict[str, Any]:
    """The seed's PerFaceEmotion document: per sampled time, every scored face's box, track id and scores."""
    header = _header(result)
    timescale = header["timescale"]
    interval = max(1, round(result.interval_s * timescale))
    slots = max(1, round(FRAGMENT_S / result.interval_s))
    duration = interval * slots
    width, height = max(1, result.media.width), max(1, result.media.height)
    events: dict[int, list[dict[str, Any]]] = {}
    for face in sorted(result.faces, key=lambda f: (f.time_s, f.track_id)):
        scores = face_scores(face)
        if scores is not None:
            events.setdefault(round(face.time_s * timescale / interval), []).append(
                _face_event(face, width, height, scores))
    last_slot = max([*events, math.ceil(result.media.duration_s * timescale / interval) - 1, 0])
    fragments = []
    for first in range(0, last_slot + 1, slots):
        fragment: dict[str, Any] = {"start": first * interval, "duration": duration}
        chunk = [events.get(slot, []) for slot in range(first, first + slots)]
        if any(chunk):
            fragment["interval"] = interval
            fragment["events"] = chunk
        fragments.append(fragment)
    return {**header, "fragments": fragments}


def aggregate_emotion_document(result: AnalysisResult, options: EmotionOptions) -> dict[str, Any]:
    """The seed's AggregateEmotion document: every ``interval_ms``, the faces of the last ``window_ms``.

    Each event is ``[{"windowFaceDistribution", "windowMeanScores"}]`` (see
    ``aggregate_windows``); every fragment has its ``interval`` and ``events``, as in the seed.
    """
    header = _header(result)
    timescale = header["timescale"]
    classes = list(result.emotion.classes) if result.emotion is not None else []
    windows = aggregate_windows(result.faces, classes, result.media.duration_s, options)
    interval = max(1, round(options.interval_ms / 1000 * timescale))
    per_fragment = max(1, round(FRAGMENT_S * 1000 / options.interval_ms))
    fragments = []
    for first in range(0, len(windows), per_fragment):
        chunk = windows[first:first + per_fragment]
        fragments.append({
            "start": first * interval, "duration": interval * per_fragment, "interval": interval,
            "events": [[{"windowFaceDistribution": _round(dict(w.distribution)),
                         "windowMeanScores": _round(dict(w.mean_scores))}] for w in chunk],
        })
    return {**header, "aggregateEmotionWindowMs": options.window_ms,
            "aggregateEmotionIntervalMs": options.interval_ms, "fragments": fragments}


def render_emotion_document(result: AnalysisResult, options: EmotionOptions) -> str:
    """The document of ``options.mode`` ("per-face" or "aggregate") as indented JSON."""
    if options.mode == "aggregate":
        document = aggregate_emotion_document(result, options)
    elif options.mode == "per-face":
        document = per_face_emotion_document(result)
    else:
        raise ValueError(f"no emotion document for mode {options.mode!r}")
    return json.dumps(document, indent=2, ensure_ascii=False)
