"""Checks shared by the bridge- and direct-mode tests of issue 15: the face-tracking JSON shape and the
emotion fields on face timespans, read back from mock_vidicore as an operator would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from operator_api import Operator
from vidiplug.render.emotion_fields import EMOTION_CLASSES

TRACKS_TAG = "vcs_face_tracks"
SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "azure_faces.schema.json"


def tracks_shapes(operator: Operator, item_id: str) -> list[dict[str, Any]]:
    """The item's shapes tagged vcs_face_tracks."""
    return [s for s in operator.shapes(item_id) if TRACKS_TAG in (s.get("tag") or [])]


def tracks_uri(shape: dict[str, Any]) -> str:
    """The file URI of a tracks shape (its container component's one file)."""
    [file] = shape["containerComponent"]["file"]
    return str(file["uri"][0])


def read_tracks(s3: Any, uri: str) -> dict[str, Any]:
    """The face-tracking JSON at an s3:// URI, checked against the repository's JSON Schema."""
    parts = urlsplit(uri)
    body = s3.get_object(Bucket=parts.hostname, Key=parts.path.lstrip("/"))["Body"].read()
    document: dict[str, Any] = json.loads(body)
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(document)
    return document


def emotion_values(operator: Operator, item_id: str) -> list[tuple[str | None, float | None]]:
    """(adu_av_emotion, adu_av_emotionConfidence) of every face value of the item."""
    found: list[tuple[str | None, float | None]] = []
    for span in operator.metadata(item_id).get("timespan", []) or []:
        for group in span.get("group", []) or []:
            if not str(group.get("name", "")).startswith("adu_face_"):
                continue
            for value in group.get("group", []) or []:
                named = {f["name"]: f["value"][0]["value"] for f in value.get("field", []) or [] if f.get("value")}
                score = named.get("adu_av_emotionConfidence")
                found.append((named.get("adu_av_emotion"), float(score) if score is not None else None))
    return found


def check_emotions(operator: Operator, item_id: str) -> None:
    """Every face value of the item carries a known emotion class with a score in [0, 1]."""
    values = emotion_values(operator, item_id)
    assert values, "no face values"
    for emotion, score in values:
        assert emotion in EMOTION_CLASSES and score is not None and 0.0 <= score <= 1.0, (emotion, score)
