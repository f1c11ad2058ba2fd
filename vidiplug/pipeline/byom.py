"""Bring your own model (seed 001): the plugin contract, frame selection, and running models on an analysis.

A model gets a ModelRequest: the media's facts and the selected frames, each with the prior
insights found in it (the face records of the analysis record, with the names of the known
people), and answers custom insights in seed 001's schema (pipeline/insights.py), which are
validated before they are kept. A model that fails, or answers outside the contract, fails
alone: the face results and the other models' insights are kept.

Pure domain: decodes frames (media room) and calls the models it is given; how a model is
found (entry points) or reached (HTTP) is the plugins room's business.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from vidiplug.errors import ModelError
from vidiplug.media import Frame, iter_media_frames
from vidiplug.media.probe import MediaInfo
from vidiplug.pipeline.insights import CustomInsights, ModelFailure, parse_custom_insights
from vidiplug.pipeline.results import AnalysisResult, FaceRecord

log = logging.getLogger("vidiplug.models")
FACES = "faces"
PERSON_PREFIX = "person:"
MODEL_FRAME_PIXELS = 1280 * 720  # frames handed to models are scaled down to at most this many pixels


@dataclass(frozen=True)
class FrameSelection:
    """Which frames a model gets (seed 001's frame selection).

    ``every_s``: one frame every this many seconds (None: the analysis's own interval).
    ``only``: ``""`` every such frame, ``"faces"`` only frames with a face, ``"person:NAME"``
    only frames with that known person (name compared case-insensitively). Of the frames
    left, the first ``skip`` are skipped and the next ``page_size`` are taken (0: all).
    ``max_frames`` caps what one request carries whatever the rest says.
    """

    every_s: float | None = None
    skip: int = 0
    page_size: int = 0
    only: str = ""
    max_frames: int = 200

    def __post_init__(self) -> None:
        if self.every_s is not None and not self.every_s > 0:
            raise ValueError("every_s: must be positive")
        if self.skip < 0 or self.page_size < 0:
            raise ValueError("skip and page_size: must not be negative")
        if self.max_frames < 1:
            raise ValueError("max_frames: must be at least 1")
        if self.only not in ("", FACES) and not (self.only.startswith(PERSON_PREFIX)
                                                  and self.only[len(PERSON_PREFIX):].strip()):
            raise ValueError("only: must be empty, 'faces' or 'person:NAME'")


@dataclass(frozen=True, eq=False)
class ModelFrame:
    """One selected frame: its media time, the RGB picture, and the prior insights in it.

    ``image`` is RGB uint8 (H, W, 3), possibly scaled down; ``width``/``height`` are the
    source picture's size, the one the face boxes are in. ``faces`` are the face records of
    the analysis sample nearest this frame (within half an interval).
    """

    index: int
    time_s: float
    image: NDArray[np.uint8]
    width: int
    height: int
    faces: tuple[FaceRecord, ...] = ()


@dataclass(frozen=True, eq=False)
class ModelRequest:
    """Everything a model gets: the media, how frames were picked, the frames, and the known people's names.

    ``names`` maps a fingerprint to the name of the known person it is (unknown people are absent).
    """

    model: str
    media: MediaInfo
    every_s: float
    frames: tuple[ModelFrame, ...]
    names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@runtime_checkable
class Model(Protocol):
    """A custom-insight model: ``analyze`` answers a JSON object in seed 001's schema.

    ``name`` is the model's name (``shot-type``), which the answer's ``name`` must repeat.
    ``analyze`` may raise ModelError (naming the field at fault); any other exception fails
    the model too, as an internal error of the plugin.
    """

    name: str

    def analyze(self, request: ModelRequest) -> object: ...


def known_names(result: AnalysisResult) -> dict[str, str]:
    """Fingerprint -> name of the known people in ``result``."""
    return {p.fingerprint: p.name for p in result.people if p.known and p.name}


def faces_by_time(result: AnalysisResult) -> dict[float, tuple[FaceRecord, ...]]:
    """The analysis record's face records grouped by sampled time."""
    grouped: dict[float, list[FaceRecord]] = {}
    for face in result.faces:
        grouped.setdefault(face.time_s, []).append(face)
    return {t: tuple(faces) for t, faces in sorted(grouped.items())}


def pick_frames(frames: Iterable[Frame], result: AnalysisResult, selection: FrameSelection,
                every_s: float) -> Iterator[ModelFrame]:
    """The frames of ``frames`` that ``selection`` keeps, with the prior insights of each.

    A frame's faces are those of the analysis sample nearest it in time, if that sample is
    within half of the smaller of ``every_s`` and the analysis interval. Stops reading
    ``frames`` as soon as the page is full.
    """
    faces = faces_by_time(result)
    times = sorted(faces)
    tolerance = min(every_s, result.interval_s) / 2 + 1e-6
    names = known_names(result)
    wanted_person = selection.only[len(PERSON_PREFIX):].strip().casefold() \
        if selection.only.startswith(PERSON_PREFIX) else None
    limit = selection.page_size or selection.max_frames
    limit = min(limit, selection.max_frames)
    kept = 0
    skipped = 0
    for frame in frames:
        nearby = _nearest(times, frame.time_s, tolerance)
        in_frame = faces[nearby] if nearby is not None else ()
        if selection.only == FACES and not in_frame:
            continue
        if wanted_person is not None and not any(
                (names.get(f.fingerprint or "") or "").casefold() == wanted_person for f in in_frame):
            continue
        if skipped < selection.skip:
            skipped += 1
            continue
        width, height = frame.source_size or (frame.image.shape[1], frame.image.shape[0])
        yield ModelFrame(kept, frame.time_s, frame.image, width, height, in_frame)
        kept += 1
        if kept >= limit:
            return


def _nearest(times: Sequence[float], t: float, tolerance: float) -> float | None:
    import bisect

    pos = bisect.bisect_left(times, t)
    best: float | None = None
    for candidate in times[max(0, pos - 1):pos + 1]:
        if abs(candidate - t) <= tolerance and (best is None or abs(candidate - t) < abs(best - t)):
            best = candidate
    return best


def select_model_frames(path: Path, result: AnalysisResult, selection: FrameSelection) -> tuple[ModelFrame, ...]:
    """Decode ``path`` at the selection's interval and keep the frames ``selection`` asks for."""
    every_s = selection.every_s or result.interval_s
    decoded = iter_media_frames(path, result.media, every_s, max_pixels=MODEL_FRAME_PIXELS)
    try:
        return tuple(pick_frames(decoded, result, selection, every_s))
    finally:
        close = getattr(decoded, "close", None)
        if close is not None:
            close()


def run_model(model: Model, request: ModelRequest) -> CustomInsights:
    """Run one model on ``request`` and validate its answer; ModelError naming the field otherwise."""
    try:
        answer = model.analyze(request)
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - a plugin's own bug fails that plugin, never the analysis
        log.warning("model %s raised", model.name, exc_info=True)
        raise ModelError(model.name, "model", f"raised {type(exc).__name__}: {str(exc)[:200]}") from exc
    return parse_custom_insights(answer, model.name)


def run_models(path: Path, result: AnalysisResult, models: Sequence[Model],
               selection: FrameSelection | None = None) -> AnalysisResult:
    """``result`` with the insights of ``models`` run on the frames ``selection`` picks from ``path``.

    The frames are decoded once for all models. A model that fails is recorded in
    ``model_failures`` (with the field at fault) and leaves everything else as it is.
    """
    if not models:
        return result
    selection = selection or FrameSelection()
    frames = select_model_frames(path, result, selection)
    every_s = selection.every_s or result.interval_s
    names = MappingProxyType(known_names(result))
    found: list[CustomInsights] = []
    failures: list[ModelFailure] = []
    for model in models:
        request = ModelRequest(model.name, result.media, every_s, frames, names)
        try:
            found.append(run_model(model, request))
        except ModelError as exc:
            log.warning("%s", exc)
            failures.append(ModelFailure(model.name, exc.field, exc.reason))
    return replace(result, custom_insights=result.custom_insights + tuple(found),
                   model_failures=result.model_failures + tuple(failures))
