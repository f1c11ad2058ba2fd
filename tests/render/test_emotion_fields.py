"""Emotion on face timespans (issue 15, item 3): from hand-made face records carrying the contract's
``attributes["emotion"]``; no emotion model needed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from types import MappingProxyType

import pytest

from vidiplug.callbacks.metadata_json import face_spans
from vidiplug.engine.base import Box
from vidiplug.errors import JobParameterError
from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.pipeline.results import AnalysisResult, FaceRecord, PersonResult, TrackRecord
from vidiplug.render.emotion_fields import span_emotion
from vidiplug.render.metadata_xml import parse_metadata_document, render_metadata_xml
from vidiplug.service.declaration import service_declaration
from vidiplug.service.params import parse_analyze_params
from vidiplug.settings import AnalysisDefaults

HAPPY = {"neutral": 0.1, "happiness": 0.8, "surprise": 0.1}
CALM = {"neutral": 0.6, "happiness": 0.3, "surprise": 0.1}
SURPRISED = {"neutral": 0.05, "happiness": 0.05, "surprise": 0.9}


def record(time_s: float, fingerprint: str, emotion: dict[str, float] | None) -> FaceRecord:
    attributes = MappingProxyType({"emotion": emotion} if emotion is not None else {})
    return FaceRecord(time_s=time_s, box=Box(64.0, 36.0, 192.0, 180.0), det_score=0.9, quality=0.5, track_id=1,
                      fingerprint=fingerprint, score=0.9, attributes=attributes)


@pytest.fixture
def two_spans(make_person: Callable[..., PersonResult],
              make_result: Callable[..., AnalysisResult]) -> Callable[[list[FaceRecord]], AnalysisResult]:
    """Lin seen 0-4 s and 10-12 s, with the given face records as the analysis record."""
    person = make_person("Lin", [(0.0, 4.0), (10.0, 12.0)], fingerprint="fp-lin")

    def make(faces: list[FaceRecord]) -> AnalysisResult:
        return replace(make_result([person]), tracks=(TrackRecord(id=1, fingerprint="fp-lin", faces=tuple(faces)),))

    return make


def test_per_face_takes_the_most_frequent_dominant_class_and_aggregate_the_highest_mean() -> None:
    faces = [record(0, "a", HAPPY), record(1, "a", CALM), record(2, "a", CALM), record(3, "a", None)]
    per_face = span_emotion(faces, "per-face")
    assert per_face is not None and per_face.value == "neutral" and per_face.confidence == pytest.approx(0.6)
    faces = [record(0, "a", HAPPY), record(1, "a", HAPPY), record(2, "a", CALM), record(3, "a", SURPRISED)]
    aggregate = span_emotion(faces, "aggregate")
    # means: neutral 0.2125, happiness 0.4875, surprise 0.3 -> happiness
    assert aggregate is not None and aggregate.value == "happiness"
    assert aggregate.confidence == pytest.approx((0.8 + 0.8 + 0.3 + 0.05) / 4)
    assert span_emotion(faces, "none") is None
    assert span_emotion([record(0, "a", None)], "per-face") is None


def test_each_face_timespan_gets_its_own_emotion_and_none_without_records_emotion(
    two_spans: Callable[[list[FaceRecord]], AnalysisResult],
) -> None:
    result = two_spans([record(1.0, "fp-lin", HAPPY), record(2.0, "fp-lin", HAPPY), record(10.0, "fp-lin", SURPRISED),
                        record(11.0, "fp-other", CALM)])
    parsed = parse_metadata_document(render_metadata_xml(result))
    assert [(p.emotion, p.emotion_confidence) for p in parsed] == [("happiness", 0.8), ("surprise", 0.9)]
    aggregate = parse_metadata_document(render_metadata_xml(result, emotion_mode="aggregate"))
    assert [p.emotion for p in aggregate] == ["happiness", "surprise"]
    plain = two_spans([record(1.0, "fp-lin", None)])
    for document in (render_metadata_xml(plain), render_metadata_xml(result, emotion_mode="none")):
        assert b"adu_av_emotion" not in document
        assert all(p.emotion is None and p.box is not None for p in parse_metadata_document(document))
    # The callback's JSON carries the same fields, declared by the service configuration.
    group = face_spans(result, analyzer_id="VidiplugFaceAnalyzer")[0]["faces"][0]["group"]  # type: ignore[index]
    value = group["group"][0]
    assert {"name": "adu_av_emotion", "value": [{"value": "happiness"}]} in value["field"]
    assert {"name": "adu_av_emotionConfidence", "value": [{"value": "0.8000"}]} in value["field"]
    declaration = service_declaration("FaceTrainingDataset")
    types = {f["name"]: f["type"] for f in declaration["metadataField"]}
    assert (types["adu_av_emotion"], types["adu_av_emotionConfidence"]) == ("string", "float")
    value_group = next(g for g in declaration["fieldGroup"] if g["name"] == "adu_av_analyzedValue")
    assert {"adu_av_emotion", "adu_av_emotionConfidence"} <= {f["name"] for f in value_group["field"]}


@pytest.mark.parametrize("text, mode", [("per-face", "per-face"), ("Aggregate", "aggregate"), ("none", "none")])
def test_the_emotion_job_parameter(text: str, mode: str) -> None:
    parsed = parse_analyze_params({"cognitive_service_Emotion": text}, AnalysisDefaults(), AnalyzeParams())
    assert parsed.emotion == mode
    assert parse_analyze_params({}, AnalysisDefaults(), AnalyzeParams()).emotion == "none"


@pytest.mark.parametrize("text", ["happy", "", "per_face", "1"])
def test_a_bad_emotion_value_fails_naming_the_parameter(text: str) -> None:
    with pytest.raises(JobParameterError, match="cognitive_service_Emotion") as caught:
        parse_analyze_params({"cognitive_service_Emotion": text}, AnalysisDefaults(), AnalyzeParams())
    assert "per-face" in str(caught.value)
