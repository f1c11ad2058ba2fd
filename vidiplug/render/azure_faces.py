"""AnalysisResult -> seed 003's face-detection JSON (Azure Media Face Detector's document).

Pure functions, no I/O. The document is exactly the seed's: ``version``, ``timescale``,
``offset``, ``framerate``, ``width``, ``height`` and ``fragments``; a fragment with faces
has ``start``, ``duration``, ``interval`` and ``events`` (one list of
``{id, x, y, width, height}`` per interval, boxes as fractions 0-1 of the frame), a
fragment without faces only ``start`` and ``duration``.

Timing follows the seed's arithmetic: ticks / ``timescale`` = seconds, seconds x
``framerate`` = frames. ``interval`` is the sampling interval in ticks; event ``k`` of a
fragment is the sampling target ``start + k * interval``, and its faces come from the
frame sampled for that target: the first frame at or after it (less than one frame later
on a stream that starts at 0; where the stream starts later, the first frame serves the
targets before it and sits in the last of them). ``id`` is the face's track id: stable within a track.

The seed's limits are options: faces whose shorter box side is under ``min_face_px``
(24) are left out, and at most ``max_faces_per_frame`` (64) faces per event are kept
(the most confident ones). What was left out is counted in ``AzureFacesDocument.dropped``
(the CLI prints it on stderr; the document itself stays exactly the seed's).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from vidiplug.errors import ParameterError
from vidiplug.pipeline.results import AnalysisResult, FaceRecord

VERSION = 1
DEFAULT_TIMESCALE = 30000
FRAGMENT_S = 2.0  # about the seed's 60060-tick fragments at 29.97 fps
MIN_FACE_PX = 24
MAX_FACES_PER_FRAME = 64
# The shape tag the face-tracking JSON gets on a VidiCore item (declared by the service configuration).
TRACKS_SHAPE_TAG = "vcs_face_tracks"

JsonObject = dict[str, object]


@dataclass(frozen=True)
class AzureFacesOptions:
    """The seed's limits: smallest face (shorter box side, pixels) and most faces per frame."""

    min_face_px: int = MIN_FACE_PX
    max_faces_per_frame: int = MAX_FACES_PER_FRAME

    def __post_init__(self) -> None:
        if self.min_face_px < 1:
            raise ParameterError("min_face_px", self.min_face_px, "must be at least 1")
        if self.max_faces_per_frame < 1:
            raise ParameterError("max_faces_per_frame", self.max_faces_per_frame, "must be at least 1")


@dataclass(frozen=True)
class DroppedFaces:
    """Face records left out of the document: ``too_small`` (under the minimum size) and
    ``over_limit`` (beyond the per-frame maximum)."""

    too_small: int = 0
    over_limit: int = 0

    @property
    def total(self) -> int:
        return self.too_small + self.over_limit


@dataclass(frozen=True)
class AzureFacesDocument:
    """The document (JSON-ready mapping) and what was dropped to honour the limits."""

    document: JsonObject
    dropped: DroppedFaces


def timescale_for(rate: Fraction | None, interval_s: float = 1.0) -> tuple[int, int | None]:
    """(timescale, ticks per frame) for a frame rate and sampling interval.

    30000 ticks/s where a frame is a whole number of them (29.97 -> 1001, 25 -> 1200,
    30 -> 1000); otherwise the smallest multiple of the rate's numerator from 10000 ticks/s up
    in which both a frame and ``interval_s`` are whole numbers of ticks (29.97 given as
    2997/100: 11988, a frame is 400 ticks). No frame grid (None) for an unknown rate.
    """
    if rate is None or rate <= 0:
        return DEFAULT_TIMESCALE, None
    per_frame = Fraction(DEFAULT_TIMESCALE) / rate
    if per_frame.denominator == 1:
        return DEFAULT_TIMESCALE, int(per_frame)
    first = max(1, math.ceil(10000 / rate.numerator))
    for multiple in range(first, first + 1000):
        ticks = rate.numerator * multiple
        if abs(interval_s * ticks - round(interval_s * ticks)) < 1e-6:
            return ticks, rate.denominator * multiple
    return rate.numerator * first, rate.denominator * first


def build_azure_faces(result: AnalysisResult, options: AzureFacesOptions | None = None) -> AzureFacesDocument:
    """Seed 003's face-detection document for ``result`` (see the module docstring)."""
    opts = options or AzureFacesOptions()
    media = result.media
    timescale, _ = timescale_for(media.frame_rate, result.interval_s)
    half_frame = timescale / (2 * media.fps) if media.fps > 0 else 0.0
    interval = max(1, round(result.interval_s * timescale))
    per_fragment = max(1, round(FRAGMENT_S / result.interval_s))
    fragment_ticks = interval * per_fragment

    slots: dict[int, list[FaceRecord]] = {}
    too_small = 0
    for face in result.faces:
        if min(face.box.width, face.box.height) < opts.min_face_px:
            too_small += 1
            continue
        slots.setdefault(event_index(face.time_s, timescale, interval, half_frame), []).append(face)
    over_limit = 0
    for slot, faces in slots.items():
        faces.sort(key=lambda f: (-f.det_score, f.track_id))
        over_limit += max(0, len(faces) - opts.max_faces_per_frame)
        slots[slot] = sorted(faces[: opts.max_faces_per_frame], key=lambda f: f.track_id)

    total = round(media.duration_s * timescale)
    if slots:
        total = max(total, (max(slots) + 1) * interval)
    total = max(total, interval)
    fragments: list[JsonObject] = []
    for start in range(0, total, fragment_ticks):
        duration = min(fragment_ticks, total - start)
        fragment: JsonObject = {"start": start, "duration": duration}
        first = start // interval
        count = math.ceil(duration / interval)
        if any(first + k in slots for k in range(count)):
            fragment["interval"] = interval
            fragment["events"] = [
                [_event(face, media.width, media.height) for face in slots.get(first + k, ())] for k in range(count)
            ]
        fragments.append(fragment)
    document: JsonObject = {
        "version": VERSION,
        "timescale": timescale,
        "offset": 0,
        "framerate": round(float(media.frame_rate), 3) if media.frame_rate else round(media.fps, 3),
        "width": media.width,
        "height": media.height,
        "fragments": fragments,
    }
    return AzureFacesDocument(document, DroppedFaces(too_small, over_limit))


def event_index(time_s: float, timescale: int, interval: int, half_frame_ticks: float) -> int:
    """The event a frame sampled at ``time_s`` belongs to: the last sampling target at or before it
    (half a frame of slack, as the sampler allows), so each sampled frame has its own event."""
    return max(0, math.floor((time_s * timescale + half_frame_ticks) / interval + 1e-9))


def normalised_box(face: FaceRecord, width: int, height: int) -> tuple[float, float, float, float]:
    """``face``'s box clipped to the frame, as (x, y, width, height) fractions with 6 significant digits."""
    if width <= 0 or height <= 0:
        return 0.0, 0.0, 0.0, 0.0
    box = face.box.clipped(width, height)
    return (_six(box.x1 / width), _six(box.y1 / height), _six(box.width / width), _six(box.height / height))


def event_times_s(fragment: JsonObject, timescale: int) -> Sequence[float]:
    """The media time in seconds of each event of ``fragment`` (empty when it has none)."""
    if "events" not in fragment:
        return ()
    start, interval = int(str(fragment["start"])), int(str(fragment["interval"]))
    events = fragment["events"]
    assert isinstance(events, list)
    return [(start + k * interval) / timescale for k in range(len(events))]


def _event(face: FaceRecord, width: int, height: int) -> JsonObject:
    x, y, w, h = normalised_box(face, width, height)
    return {"id": face.track_id, "x": x, "y": y, "width": w, "height": h}


def _six(value: float) -> float:
    """Six significant digits, as the seed prints them (0.0867188)."""
    return float(f"{min(1.0, max(0.0, value)):.6g}")
