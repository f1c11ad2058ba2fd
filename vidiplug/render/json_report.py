"""AnalysisResult -> the CLI's JSON report (plain dicts, then ``json.dumps``).

Pure functions, no I/O; imports only pipeline result types and the render time helpers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from vidiplug.pipeline.insights import insights_json
from vidiplug.pipeline.results import AnalysisResult, Appearance, FaceRecord, PersonResult, TrackRecord
from vidiplug.render.timecode import to_iso_utc


def build_json_report(
    result: AnalysisResult, thumbnails: Mapping[str, str] | None = None, *, faces: bool = False
) -> dict[str, Any]:
    """The analysis as a JSON-ready dict: what was analysed, with which engine, and who appears when.

    Shape (times in seconds rounded to 3 decimals, confidences in 0-1 rounded to 4)::

        {"media": {"path", "duration", "fps", "width", "height"},
         "engine": {"name", "model", "version", "dim", "providers": [...]},
         "frames_analyzed", "faces_embedded", "interval", "analyzed_at", "elapsed",
         "people": [{"name", "fingerprint", "known", "new", "confidence", "seen_duration",
                     "thumbnail", "appearances": [{"start", "end", "confidence", "box"}]}]}

    ``analyzed_at`` is ISO-8601 UTC to the second (``2021-08-18T08:00:46Z``); ``name`` is
    null for unknown people; ``new`` says the fingerprint was created by this run; ``box``
    is ``[x1, y1, x2, y2]`` in pixels of the frame (1 decimal). ``thumbnails`` maps a
    fingerprint to the path of its face crop, written into ``thumbnail`` (null when absent).
    People are ordered known first by name, then unknown by first appearance.

    With ``faces``, ``tracks`` adds the analysis record: every face track, in track order,
    as ``{"id", "fingerprint", "faces": [{"time", "box", "detection_score", "quality",
    "fingerprint", "score", "attributes"}]}`` (``fingerprint`` null where the track was not
    reported; ``score`` the confidence of the decision that named it; ``attributes`` the
    face's open attribute mapping, e.g. emotion).

    ``customInsights`` holds what custom models found, one entry per model in seed 001's
    schema (``{"name", "displayName", "displayType", "results": [{"id", "type", "subType",
    "metaData", "instances": [{"confidence", "start", "end", "adjustedStart", "adjustedEnd"}]}]}``,
    times ``h:mm:ss.ff``); ``modelErrors`` the models that failed, ``{"name", "field", "error"}``.
    Both are empty lists when no model ran.
    """
    media = result.media
    engine = result.engine
    shown = thumbnails or {}
    report: dict[str, Any] = {
        "media": {
            "path": media.path,
            "duration": _seconds(media.duration_s),
            "fps": _seconds(media.fps),
            "width": media.width,
            "height": media.height,
        },
        "engine": {
            "name": engine.name,
            "model": engine.model,
            "version": engine.version,
            "dim": engine.dim,
            "providers": list(result.providers),
        },
        "frames_analyzed": result.frames_analyzed,
        "faces_embedded": result.faces_embedded,
        "interval": _seconds(result.interval_s),
        "analyzed_at": to_iso_utc(result.analyzed_at),
        "elapsed": _seconds(result.elapsed_s),
        "people": [_person(person, shown.get(person.fingerprint)) for person in ordered_people(result.people)],
        "customInsights": [insights_json(insights) for insights in result.custom_insights],
        "modelErrors": [{"name": f.name, "field": f.field, "error": f.message} for f in result.model_failures],
    }
    if result.emotion is not None:
        # The expression model behind every face's attributes["emotion"] (model, licence, version, classes).
        report["emotion"] = {**result.emotion.as_dict(), "faces_scored": result.faces_emotion_scored}
    if faces:
        report["tracks"] = [_track(track) for track in result.tracks]
    return report


def render_json_report(
    result: AnalysisResult, thumbnails: Mapping[str, str] | None = None, *, faces: bool = False
) -> str:
    """build_json_report as text: indented by 2, non-ASCII kept as is (no trailing newline)."""
    return json.dumps(build_json_report(result, thumbnails, faces=faces), indent=2, ensure_ascii=False)


def ordered_people(people: Iterable[PersonResult]) -> list[PersonResult]:
    """``people`` in report order: known people by name (case-insensitive), then unknown people
    by their first appearance. Ties are broken by fingerprint, so the order is stable."""
    everyone = list(people)
    known = sorted(
        (p for p in everyone if p.known), key=lambda p: ((p.name or "").casefold(), p.name or "", p.fingerprint)
    )
    unknown = sorted((p for p in everyone if not p.known), key=lambda p: (_first_start_s(p), p.fingerprint))
    return known + unknown


def _first_start_s(person: PersonResult) -> float:
    return min((a.start_s for a in person.appearances), default=math.inf)


def _person(person: PersonResult, thumbnail: str | None) -> dict[str, Any]:
    return {
        "name": person.name if person.known else None,
        "fingerprint": person.fingerprint,
        "known": person.known,
        "new": person.is_new,
        "confidence": _confidence(person.confidence),
        "seen_duration": _seconds(person.seen_duration_s),
        "thumbnail": thumbnail,
        "appearances": [_appearance(a) for a in sorted(person.appearances, key=lambda a: (a.start_s, a.end_s))],
    }


def _appearance(appearance: Appearance) -> dict[str, Any]:
    return {
        "start": _seconds(appearance.start_s),
        "end": _seconds(appearance.end_s),
        "confidence": _confidence(appearance.confidence),
        "box": [float(v) for v in appearance.box.as_list()],
    }


def _track(track: TrackRecord) -> dict[str, Any]:
    return {"id": track.id, "fingerprint": track.fingerprint, "faces": [_face(face) for face in track.faces]}


def _face(face: FaceRecord) -> dict[str, Any]:
    return {
        "time": _seconds(face.time_s),
        "box": [float(v) for v in face.box.as_list()],
        "detection_score": _confidence(face.det_score),
        "quality": _confidence(face.quality),
        "fingerprint": face.fingerprint,
        "score": _confidence(face.score),
        "attributes": dict(face.attributes),
    }


def _seconds(value: float) -> float:
    """Seconds (or frames per second) to the millisecond, always a JSON float."""
    return round(float(value), 3)


def _confidence(value: float) -> float:
    return round(float(value), 4)
