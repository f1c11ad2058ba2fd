"""The baseline of the quality benchmark: the plain loop a face_recognition script runs.

PyAV decodes every frame; the frame nearest each whole second of stream time (0, 1, 2 ...
s, the time line vidiplug samples in) is converted to RGB; dlib's HOG frontal face
detector runs on it with upsample 1 (``detector(rgb, 1)``, as ``face_locations`` does);
every face is embedded with the vidiplug engine's recogniser (dlib's ResNet, so both sides
compare the same vectors) and named after the nearest gallery vector when the Euclidean
distance is under face_recognition's tolerance of 0.6. No tracking. A face matching nobody
joins the group of the nearest earlier unknown face when that is within the same distance,
else starts a new group.

face_recognition applies 0.6 to dlib's raw descriptors, which are not unit vectors: on the
shared labelled photos their norms run from 1.24 to 1.63, median 1.44 (different people's
raw distances: 1st percentile 0.67, median 0.87). The engine hands out unit vectors, so the
same tolerance there is 0.6 / 1.44 = 0.42 (``DISTANCE``). Applying 0.6 to unit vectors
instead (cosine 0.82, the median similarity of two different people) names a stranger on
half of all pairs: ``--baseline-distance 0.6`` shows that rule.

For track purity and BCubed each group (a named person's faces, or an unknown group) counts
as one track: the baseline has no finer unit than the identity it reports.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from quality_metrics import Report, Span, Track

RAW_TOLERANCE = 0.6  # face_recognition's default tolerance, on dlib's raw descriptors
RAW_NORM = 1.44  # median norm of dlib's raw descriptors of the shared labelled photos (1.24-1.63)
DISTANCE = RAW_TOLERANCE / RAW_NORM  # the same tolerance between unit vectors (cosine 0.913)


@dataclass(frozen=True)
class BaselineFace:
    """One face the baseline found: when (stream seconds), how big, and what it was called."""

    time_s: float
    area: float
    label: str
    named: bool


class Namer:
    """Names faces after the nearest gallery vector, groups the rest by the nearest earlier unknown face."""

    def __init__(self, vectors: NDArray[np.float32], names: Sequence[str], distance: float = DISTANCE) -> None:
        self._vectors = np.asarray(vectors, np.float32).reshape(len(names), -1) if len(names) else None
        self._names = list(names)
        self._distance = distance
        self._unknown: list[NDArray[np.float32]] = []
        self._groups: list[str] = []

    @property
    def groups(self) -> int:
        """Unknown groups started so far."""
        return len(set(self._groups))

    def name(self, vector: NDArray[np.float32]) -> tuple[str, bool]:
        """(label, named) for one unit embedding; unknown groups are labelled ``unknown-N``."""
        vector = np.asarray(vector, np.float32).ravel()
        if self._vectors is not None:
            gaps = np.linalg.norm(self._vectors - vector, axis=1)
            best = int(np.argmin(gaps))
            if gaps[best] < self._distance:
                return self._names[best], True
        label = f"unknown-{self.groups + 1}"
        if self._unknown:
            gaps = np.linalg.norm(np.stack(self._unknown) - vector, axis=1)
            best = int(np.argmin(gaps))
            if gaps[best] < self._distance:
                label = self._groups[best]
        self._unknown.append(vector)
        self._groups.append(label)
        return label, False


def nearest_frames(path: Path) -> Iterator[tuple[float, NDArray[np.uint8]]]:
    """(stream time s, RGB picture) of the frame nearest each whole second, decoding every frame."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        start = stream.start_time or 0
        base = stream.time_base or Fraction(1, 90000)
        half = 0.5 / float(stream.average_rate) if stream.average_rate else 0.0
        target = 0
        previous: tuple[float, Any] | None = None
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            time_s = float((frame.pts - start) * base)
            while time_s >= target:
                near = previous if previous is not None and target - previous[0] < time_s - target else (time_s, frame)
                yield near[0], _rgb(near[1])
                target += 1
            previous = (time_s, frame)
        if previous is not None and target - previous[0] <= half:
            yield previous[0], _rgb(previous[1])


def _rgb(frame: Any) -> NDArray[np.uint8]:
    picture: NDArray[np.uint8] = frame.to_ndarray(format="rgb24")
    return picture


class Detector:
    """dlib's HOG frontal face detector with upsample 1, boxes as vidiplug Detections."""

    def __init__(self) -> None:
        import dlib

        self._detector = dlib.get_frontal_face_detector()

    def __call__(self, image: NDArray[np.uint8]) -> list[Any]:
        from vidiplug.engine.base import Box, Detection

        height, width = image.shape[:2]
        found = []
        for rect in self._detector(image, 1):
            box = Box(rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1).clipped(width, height)
            if box.width >= 2 and box.height >= 2:
                # DlibEngine.embed finds its own landmarks from the box.
                found.append(Detection(box, np.zeros((5, 2), np.float32), 1.0))
        return found


def run_clip(path: Path, engine: Any, detector: Detector, namer: Namer) -> tuple[list[BaselineFace], int]:
    """Every face of the baseline loop over the clip at ``path``, and the number of frames looked at."""
    faces: list[BaselineFace] = []
    frames = 0
    for time_s, image in nearest_frames(path):
        frames += 1
        found = detector(image)
        if not found:
            continue
        for det, vector in zip(found, engine.embed(image, found)):
            label, named = namer.name(vector)
            faces.append(BaselineFace(time_s, det.box.area, label, named))
    return faces, frames


def report(faces: Sequence[BaselineFace], offset_s: float, duration_s: float, interval_s: float = 1.0) -> Report:
    """The baseline's faces as a Report in the truth's time line (stream time + ``offset_s``).

    A face at ``t`` is a span [t, t + interval) (capped at the duration); each label is one track.
    """
    spans = tuple(
        Span(f.label, f.named, f.time_s + offset_s, min(f.time_s + interval_s, max(duration_s, f.time_s)) + offset_s)
        for f in faces
    )
    by_label: dict[str, list[BaselineFace]] = {}
    for face in faces:
        by_label.setdefault(face.label, []).append(face)
    tracks = tuple(
        Track(label, label, tuple(f.time_s + offset_s for f in group), tuple(f.area for f in group))
        for label, group in by_label.items()
    )
    return Report(spans, tracks)


def largest_face_vector(image: NDArray[np.uint8], engine: Any, detector: Detector) -> NDArray[np.float32] | None:
    """The embedding of the largest face the baseline detector finds in a photo, or None."""
    found = detector(image)
    if not found:
        return None
    biggest = max(found, key=lambda d: d.box.area)
    vectors: NDArray[np.float32] = engine.embed(image, [biggest])
    return vectors[0]


def nearest_name(
    vector: NDArray[np.float32], vectors: NDArray[np.float32], names: Sequence[str], distance: float = DISTANCE
) -> str | None:
    """The name of the nearest of ``vectors`` when under ``distance``, else None."""
    if not len(names):
        return None
    gaps = np.linalg.norm(np.asarray(vectors, np.float32) - vector, axis=1)
    best = int(np.argmin(gaps))
    return names[best] if gaps[best] < distance else None
