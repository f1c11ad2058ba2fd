"""shot-type: close-up / medium / wide shot, from the size of the largest face (no download needed).

A real, useful classifier for editors and archives: a face at least CLOSE_UP of the frame's
height is a close-up, at least MEDIUM a medium shot, anything smaller a wide shot. Frames
without a face are not classified. Consecutive frames of one class are one instance, from
the first frame to one interval past the last; its confidence is the mean detection score
of the faces that decided it.

Registered as ``shot-type = "vidiplug.examples.shot_type:ShotTypeModel"`` in the
``vidiplug.models`` entry point group (pyproject.toml).
"""

from __future__ import annotations

from dataclasses import dataclass

from vidiplug.pipeline.byom import ModelFrame, ModelRequest
from vidiplug.pipeline.insights import format_time

CLOSE_UP = 0.30  # face height / frame height
MEDIUM = 0.12
CLASSES = (("close-up", "Close-up"), ("medium", "Medium shot"), ("wide", "Wide shot"))


def classify(face_height: float, frame_height: float) -> str:
    """``close-up``, ``medium`` or ``wide`` for a face ``face_height`` high in a frame ``frame_height`` high."""
    share = face_height / frame_height if frame_height > 0 else 0.0
    if share >= CLOSE_UP:
        return "close-up"
    if share >= MEDIUM:
        return "medium"
    return "wide"


def frame_class(frame: ModelFrame) -> tuple[str, float] | None:
    """The class of ``frame`` by its largest face, with that face's detection score; None without faces."""
    if not frame.faces:
        return None
    largest = max(frame.faces, key=lambda f: f.box.height)
    return classify(largest.box.height, frame.height), largest.det_score


@dataclass
class ShotTypeModel:
    """The in-process model: ``analyze`` answers seed 001's schema."""

    name: str = "shot-type"
    display_name: str = "Shot type"

    def analyze(self, request: ModelRequest) -> dict[str, object]:
        runs: list[tuple[str, float, float, list[float]]] = []  # class, start, end, scores
        for frame in request.frames:
            found = frame_class(frame)
            if found is None:
                continue
            kind, score = found
            end = frame.time_s + request.every_s
            if request.media.duration_s > 0:
                end = min(end, max(request.media.duration_s, frame.time_s))
            last = runs[-1] if runs else None
            if last is not None and last[0] == kind and frame.time_s <= last[2] + 1e-6:
                runs[-1] = (kind, last[1], end, [*last[3], score])
            else:
                runs.append((kind, frame.time_s, end, [score]))
        results = []
        for kind, label in CLASSES:
            instances = [
                {"confidence": round(sum(scores) / len(scores), 4),
                 "start": format_time(start), "end": format_time(end),
                 "adjustedStart": format_time(start), "adjustedEnd": format_time(end)}
                for run_kind, start, end, scores in runs if run_kind == kind
            ]
            if instances:
                results.append({"id": kind, "type": label, "instances": instances})
        return {"name": self.name, "displayName": self.display_name, "displayType": "Capsule", "results": results}
