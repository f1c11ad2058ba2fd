"""Per-job parameters: ``cognitive_service_<Name>`` job data → AnalyzeParams / TrainParams.

The one place where VidiCore's parameter names become vidiplug's; every error names the
parameter and the bad value, and unknown names are refused rather than ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import TypeVar

from vidiplug.engine.character import check_series
from vidiplug.errors import EngineError, JobParameterError
from vidiplug.pipeline.byom import FrameSelection
from vidiplug.pipeline.insights import MODEL_NAME_RULE, is_model_name
from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.render.emotion_fields import EMOTION_MODES, NONE, check_mode
from vidiplug.settings import AnalysisDefaults, ModelSettings

PREFIX = "cognitive_service_"
COLLECTION_NAME_MAX = 256
STORAGE_ID = re.compile(r"^[A-Za-z]{1,8}-[0-9]{1,12}$")


class Quality(str, Enum):
    """Training quality settings (seed 002's QualitySetting) and the face quality each needs."""

    LOW = "Low"
    MID = "Mid"
    HIGH = "High"

    @property
    def min_quality(self) -> float:
        """Minimum face quality in [0, 1] (see identity/quality.py) a training image must reach."""
        return {"Low": 0.0, "Mid": 0.3, "High": 0.6}[self.value]


@dataclass(frozen=True)
class AnalyzeJobParams:
    """What an analyze job asks for: the analysis knobs plus where unknowns go.

    ``emotion``: ``none``, ``per-face`` or ``aggregate`` (cognitive_service_Emotion): whether
    and how each face timespan gets an emotion value and its score.
    """

    analysis: AnalyzeParams
    unknown_collection: str
    storage_id: str | None
    emotion: str = NONE
    series: str | None = None


@dataclass(frozen=True)
class TrainJobParams:
    """What a train job asks for; ``series``: train that series' characters (None: faces)."""

    quality: Quality
    series: str | None = None


def _number(name: str, text: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise JobParameterError(name, text, "is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise JobParameterError(name, text, f"must be between {low:g} and {high:g}")
    return value


def _boolean(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise JobParameterError(name, text, "must be true or false")


def _collection_name(name: str, text: str) -> str:
    value = text.strip()
    if not value or len(value) > COLLECTION_NAME_MAX or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise JobParameterError(name, text, f"must be 1-{COLLECTION_NAME_MAX} printable characters")
    return value


def _storage_id(name: str, text: str) -> str:
    if not STORAGE_ID.match(text.strip()):
        raise JobParameterError(name, text, "must be a VidiCore storage id such as VX-3")
    return text.strip()


MODEL_NAMES = ("Models", "ModelFrameInterval", "ModelSkipFrames", "ModelPageSize", "ModelFramesWith")
ANALYZE_NAMES = (
    "ConfidenceThreshold", "MaxTimespanLength", "ImportUnknown", "UnknownCollectionName",
    "StorageId", "DetectionThreshold", "KeyframeInterval", "Emotion", "AnimationModel",
    *MODEL_NAMES,
)
TRAIN_NAMES = ("QualitySetting", "AnimationModel")
T = TypeVar("T")


def _cognitive(data: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    """The job's cognitive_service_ entries by short name; unknown names are refused."""
    given: dict[str, str] = {}
    for key, text in data.items():
        if not key.startswith(PREFIX):
            continue
        short = key[len(PREFIX):]
        if short not in names:
            known = ", ".join(PREFIX + n for n in names)
            raise JobParameterError(key, text, f"is not a parameter of this job (known: {known})")
        given[short] = text
    return given


def _pick(given: Mapping[str, str], name: str, parse: Callable[[str, str], T], default: T) -> T:
    return parse(PREFIX + name, given[name]) if name in given else default


def _unit(name: str, text: str) -> float:
    return _number(name, text, 0.0, 1.0)


def _span_limit(name: str, text: str) -> float:
    return _number(name, text, 0.0, 7 * 86400.0)


def _interval(name: str, text: str) -> float:
    return _number(name, text, 0.04, 3600.0)


def _emotion(name: str, text: str) -> str:
    try:
        return check_mode(text.strip().lower())
    except ValueError:
        raise JobParameterError(name, text, f"must be one of {', '.join(EMOTION_MODES)}") from None


def _series(name: str, text: str) -> str | None:
    """A series name (engine/character.py's rule), None when empty (faces)."""
    if not text.strip():
        return None
    try:
        return check_series(text)
    except EngineError:
        raise JobParameterError(name, text, "must be a series name: 1-64 letters, digits, spaces or .'&()-_") \
            from None


def _quality(name: str, text: str) -> Quality:
    for quality in Quality:
        if quality.value.lower() == text.strip().lower():
            return quality
    raise JobParameterError(name, text, "must be Low, Mid or High")


def parse_analyze_params(data: Mapping[str, str], defaults: AnalysisDefaults, base: AnalyzeParams) -> AnalyzeJobParams:
    """AnalyzeJobParams from a job's data, the service's defaults filling what the job leaves out.

    Names (all prefixed ``cognitive_service_``): ConfidenceThreshold (0-1), MaxTimespanLength
    (seconds, 0 = never split), ImportUnknown (true/false), UnknownCollectionName,
    StorageId (VX-n), DetectionThreshold (0-1), KeyframeInterval (seconds), Emotion (none,
    per-face or aggregate; issue 15), AnimationModel (a series: analyse its animated characters
    with the character engine instead of faces; issue 16). ConfidenceThreshold, UnknownCollectionName and
    KeyframeInterval are seed 002's; the others are vidiplug's names (for the parameters
    whose names the seed's table lost, and for emotion). Raises JobParameterError naming
    the parameter.
    """
    given = _cognitive(data, ANALYZE_NAMES)
    analysis = replace(
        base,
        threshold=_pick(given, "ConfidenceThreshold", _unit, defaults.confidence_threshold),
        max_span_s=_pick(given, "MaxTimespanLength", _span_limit, defaults.max_timespan_s),
        import_unknowns=_pick(given, "ImportUnknown", _boolean, defaults.import_unknowns),
        detection_threshold=_pick(given, "DetectionThreshold", _unit, defaults.detection_threshold),
        interval_s=_pick(given, "KeyframeInterval", _interval, defaults.keyframe_interval_s),
    )
    storage: str | None = _pick(given, "StorageId", _storage_id, defaults.storage_id)
    emotion = _pick(given, "Emotion", _emotion, NONE)
    series: str | None = _pick(given, "AnimationModel", _series, None)
    return AnalyzeJobParams(
        analysis=analysis,
        unknown_collection=_pick(given, "UnknownCollectionName", _collection_name, defaults.unknown_collection_name),
        storage_id=storage,
        emotion=emotion,
        series=series,
    )


@dataclass(frozen=True)
class ModelJobParams:
    """Which custom-insight models an analyze job runs, and on which frames."""

    names: tuple[str, ...]
    selection: FrameSelection


def _model_names(name: str, text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    for model in names:
        if not is_model_name(model):
            raise JobParameterError(name, text, f"model names are {MODEL_NAME_RULE}, comma-separated")
    return names


def _whole(name: str, text: str) -> int:
    return int(_number(name, text, 0, 1_000_000))


def _frames_with(name: str, text: str) -> str:
    value = text.strip()
    if value.lower() in ("", "all"):
        return ""
    if value.lower() == "faces" or (value.startswith("person:") and value[7:].strip() and len(value) <= 300):
        return "faces" if value.lower() == "faces" else value
    raise JobParameterError(name, text, "must be all, faces or person:NAME")


def parse_model_params(data: Mapping[str, str], defaults: ModelSettings) -> ModelJobParams:
    """ModelJobParams from an analyze job's data, ``models`` settings filling the rest.

    ``cognitive_service_Models`` names the models to run, comma-separated (names of installed
    or configured models only: a job never gives an address; empty = none); without it, the
    setting ``models.run``. ``ModelFrameInterval`` (seconds), ``ModelSkipFrames``,
    ``ModelPageSize`` (0 = all) and ``ModelFramesWith`` (all, faces or person:NAME) choose the
    frames. Raises JobParameterError naming the parameter.
    """
    given = _cognitive(data, ANALYZE_NAMES)
    base = defaults.frame_selection()
    every: float | None = _pick(given, "ModelFrameInterval", _interval, base.every_s)
    selection = replace(
        base,
        every_s=every,
        skip=_pick(given, "ModelSkipFrames", _whole, base.skip),
        page_size=_pick(given, "ModelPageSize", _whole, base.page_size),
        only=_pick(given, "ModelFramesWith", _frames_with, base.only),
    )
    return ModelJobParams(names=_pick(given, "Models", _model_names, tuple(defaults.run)), selection=selection)


def parse_train_params(data: Mapping[str, str], defaults: AnalysisDefaults) -> TrainJobParams:
    """TrainJobParams from a job's data (``cognitive_service_QualitySetting`` = Low, Mid or High;
    ``cognitive_service_AnimationModel`` = a series, to train its characters instead of faces)."""
    given = _cognitive(data, TRAIN_NAMES)
    default = _quality("quality_setting", defaults.quality_setting)
    series: str | None = _pick(given, "AnimationModel", _series, None)
    return TrainJobParams(quality=_pick(given, "QualitySetting", _quality, default), series=series)
