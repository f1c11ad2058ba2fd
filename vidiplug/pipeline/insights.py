"""Custom insights: what a "bring your own model" plugin answers (seed 001's schema), validated strictly.

Pure data and validation, no I/O. The answer of a model is a JSON object::

    {"name": "shot-type", "displayName": "Shot type", "displayType": "Capsule",
     "results": [{"id": 1, "type": "close-up", "subType": "...", "metaData": "...",
                  "instances": [{"confidence": 0.9, "start": "0:00:01.00", "end": "0:00:02.00",
                                 "adjustedStart": "0:00:01.00", "adjustedEnd": "0:00:02.00"}]}]}

``name``, ``displayName``, ``results``, ``results[].id``, ``results[].type`` and
``results[].instances`` are required; every other field is optional; no other field is
allowed. Times are ``hh.mm.ss.ff`` (``0:00:32.72`` as in the seed's sample is accepted too:
``:`` or ``.`` between hours, minutes and seconds; ``ff`` hundredths). Anything else fails
the model with a ModelError naming the field.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from vidiplug.errors import ModelError

DISPLAY_TYPES = ("Capsule", "CapsuleAndTag")
MODEL_NAME_RULE = "1-40 lower-case letters, digits and hyphens, starting with a letter"
_MODEL_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
_TIME = re.compile(r"(\d{1,2})[:.](\d{2})[:.](\d{2})\.(\d{2})")
MAX_RESULTS = 10_000
MAX_INSTANCES = 100_000  # in all results together
MAX_TEXT = {"displayName": 200, "type": 200, "subType": 200, "metaData": 4000, "id": 200}
_TOP_KEYS = {"name", "displayName", "displayType", "results"}
_RESULT_KEYS = {"id", "type", "subType", "metaData", "instances"}
_INSTANCE_KEYS = {"confidence", "start", "end", "adjustedStart", "adjustedEnd"}
_TIME_KEYS = ("start", "end", "adjustedStart", "adjustedEnd")


def is_model_name(name: str) -> bool:
    """True for a well-formed model name (``shot-type``): it becomes part of a metadata group name."""
    return bool(_MODEL_NAME.fullmatch(name))


def check_model_name(name: str) -> str:
    """``name`` when well-formed; ModelError naming it otherwise."""
    if not is_model_name(name):
        raise ModelError(ascii(name)[:60], "name", f"must be {MODEL_NAME_RULE}")
    return name


@dataclass(frozen=True)
class InsightInstance:
    """One time window an insight was found in; times are seconds (None: not given)."""

    confidence: float | None = None
    start_s: float | None = None
    end_s: float | None = None
    adjusted_start_s: float | None = None
    adjusted_end_s: float | None = None


@dataclass(frozen=True)
class InsightResult:
    """One insight: ``id`` unique within its model's results, ``type`` the general category."""

    id: str
    type: str
    instances: tuple[InsightInstance, ...]
    sub_type: str | None = None
    meta_data: str | None = None


@dataclass(frozen=True)
class CustomInsights:
    """What one model found in one media file."""

    name: str
    display_name: str
    display_type: str
    results: tuple[InsightResult, ...]

    @property
    def instance_count(self) -> int:
        return sum(len(r.instances) for r in self.results)


@dataclass(frozen=True)
class ModelFailure:
    """A model that ran and failed: its name, the field at fault and why (``ModelError``'s parts)."""

    name: str
    field: str
    reason: str

    @property
    def message(self) -> str:
        return f"model {self.name}: {self.field}: {self.reason}"


def format_time(seconds: float) -> str:
    """Seconds as the seed's ``h:mm:ss.ff`` (``0:00:32.72``), rounded to the hundredth."""
    hundredths = max(0, round(seconds * 100))
    whole, ff = divmod(hundredths, 100)
    minutes, ss = divmod(whole, 60)
    hh, mm = divmod(minutes, 60)
    return f"{hh}:{mm:02d}:{ss:02d}.{ff:02d}"


def parse_time(text: str) -> float:
    """Seconds of ``hh.mm.ss.ff`` / ``h:mm:ss.ff``; ValueError otherwise."""
    match = _TIME.fullmatch(text) if len(text) <= 16 else None
    if match is None:
        raise ValueError("must be hh.mm.ss.ff")
    hh, mm, ss, ff = (int(g) for g in match.groups())
    if mm >= 60 or ss >= 60:
        raise ValueError("minutes and seconds must be below 60")
    return hh * 3600 + mm * 60 + ss + ff / 100


def parse_custom_insights(answer: object, model: str) -> CustomInsights:
    """Validate a model's ``answer`` against seed 001's schema; ModelError naming the field otherwise.

    ``answer["name"]`` must be ``model`` (a model cannot write another model's insights).
    Texts must be strings without control characters, within MAX_TEXT; markup is allowed
    (it stays text wherever vidiplug writes it). ``results[].id`` may be a string or an
    integer and must be unique; an instance's ``end`` must not be before its ``start``.
    """
    top = _object(answer, model, "answer", _TOP_KEYS)
    name = top.get("name")
    if not isinstance(name, str):
        raise ModelError(model, "name", "required, a string")
    if name != model:
        raise ModelError(model, "name", f"is {ascii(name)[:60]}, must be the model's own name {model!r}")
    display_name = _text(top, "displayName", model, "displayName", required=True)
    display_type = top.get("displayType", "Capsule")
    if display_type not in DISPLAY_TYPES:
        raise ModelError(model, "displayType", f"must be one of {', '.join(DISPLAY_TYPES)}")
    raw_results = top.get("results")
    if not isinstance(raw_results, list):
        raise ModelError(model, "results", "required, a list")
    if len(raw_results) > MAX_RESULTS:
        raise ModelError(model, "results", f"more than {MAX_RESULTS} results")
    results: list[InsightResult] = []
    seen: set[str] = set()
    instances_total = 0
    for i, raw in enumerate(raw_results):
        where = f"results[{i}]"
        entry = _object(raw, model, where, _RESULT_KEYS)
        result_id = _id(entry.get("id"), model, f"{where}.id")
        if result_id in seen:
            raise ModelError(model, f"{where}.id", f"{result_id!a} is not unique")
        seen.add(result_id)
        raw_instances = entry.get("instances")
        if not isinstance(raw_instances, list):
            raise ModelError(model, f"{where}.instances", "required, a list")
        instances_total += len(raw_instances)
        if instances_total > MAX_INSTANCES:
            raise ModelError(model, f"{where}.instances", f"more than {MAX_INSTANCES} instances in all")
        instances = tuple(_instance(x, model, f"{where}.instances[{j}]") for j, x in enumerate(raw_instances))
        results.append(InsightResult(
            id=result_id,
            type=_text(entry, "type", model, f"{where}.type", required=True) or "",
            instances=instances,
            sub_type=_text(entry, "subType", model, f"{where}.subType"),
            meta_data=_text(entry, "metaData", model, f"{where}.metaData", allow_empty=True),
        ))
    return CustomInsights(name=model, display_name=display_name or "", display_type=display_type,
                          results=tuple(results))


def insights_json(insights: CustomInsights) -> dict[str, Any]:
    """``insights`` in seed 001's schema (times as ``h:mm:ss.ff``, optional fields left out when absent)."""
    results = []
    for result in insights.results:
        entry: dict[str, Any] = {"id": result.id, "type": result.type}
        if result.sub_type is not None:
            entry["subType"] = result.sub_type
        if result.meta_data is not None:
            entry["metaData"] = result.meta_data
        entry["instances"] = [instance_json(instance) for instance in result.instances]
        results.append(entry)
    return {"name": insights.name, "displayName": insights.display_name, "displayType": insights.display_type,
            "results": results}


def instance_json(instance: InsightInstance) -> dict[str, Any]:
    """One instance in the seed's schema."""
    entry: dict[str, Any] = {}
    if instance.confidence is not None:
        entry["confidence"] = round(instance.confidence, 4)
    for key, value in zip(_TIME_KEYS, (instance.start_s, instance.end_s, instance.adjusted_start_s,
                                       instance.adjusted_end_s)):
        if value is not None:
            entry[key] = format_time(value)
    return entry


def _object(value: object, model: str, where: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelError(model, where, "must be a JSON object")
    for key in value:
        if key not in allowed:
            shown = f"{where}.{key}" if where != "answer" else str(key)
            raise ModelError(model, ascii(shown)[1:-1][:120], f"is not a field of the schema (known: "
                                                              f"{', '.join(sorted(allowed))})")
    return value


def _clean(text: str) -> bool:
    return not any(unicodedata.category(ch) in ("Cc", "Cs", "Cn") and ch not in "\t" for ch in text)


def _text(entry: dict[str, Any], key: str, model: str, where: str, *, required: bool = False,
          allow_empty: bool = False) -> str | None:
    value = entry.get(key)
    if value is None:
        if required:
            raise ModelError(model, where, "required, a string")
        return None
    if not isinstance(value, str):
        raise ModelError(model, where, "must be a string")
    if not value.strip() and not allow_empty:
        raise ModelError(model, where, "must not be empty")
    if len(value) > MAX_TEXT[key]:
        raise ModelError(model, where, f"longer than {MAX_TEXT[key]} characters")
    if not _clean(value):
        raise ModelError(model, where, "holds control or unassigned characters")
    return value


def _id(value: object, model: str, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ModelError(model, where, "required, a string or an integer")
    text = str(value)
    if not text.strip() or len(text) > MAX_TEXT["id"] or not _clean(text):
        raise ModelError(model, where, f"must be 1-{MAX_TEXT['id']} printable characters")
    return text


def _instance(value: object, model: str, where: str) -> InsightInstance:
    entry = _object(value, model, where, _INSTANCE_KEYS)
    confidence = entry.get("confidence")
    if confidence is not None:
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or \
                not math.isfinite(confidence) or not 0.0 <= confidence <= 1.0:
            raise ModelError(model, f"{where}.confidence", "must be a number between 0 and 1")
        confidence = float(confidence)
    times: list[float | None] = []
    for key in _TIME_KEYS:
        text = entry.get(key)
        if text is None:
            times.append(None)
            continue
        if not isinstance(text, str):
            raise ModelError(model, f"{where}.{key}", "must be a string hh.mm.ss.ff")
        try:
            times.append(parse_time(text))
        except ValueError as exc:
            raise ModelError(model, f"{where}.{key}", f"{ascii(text)[:40]} {exc}") from None
    start, end, adjusted_start, adjusted_end = times
    for (a, b), names in (((start, end), "end"), ((adjusted_start, adjusted_end), "adjustedEnd")):
        if a is not None and b is not None and b < a:
            raise ModelError(model, f"{where}.{names}", "is before the start")
    return InsightInstance(confidence, start, end, adjusted_start, adjusted_end)
