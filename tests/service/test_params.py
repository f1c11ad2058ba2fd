from __future__ import annotations

import pytest

from vidiplug.errors import JobParameterError
from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.service.params import Quality, parse_analyze_params, parse_train_params
from vidiplug.settings import AnalysisDefaults

DEFAULTS = AnalysisDefaults()


def test_job_values_override_service_defaults() -> None:
    data = {
        "itemId": "VX-1",
        "cognitive_service_ConfidenceThreshold": "0.75",
        "cognitive_service_UnknownCollectionName": "UnknownIdentityCollection",
        "cognitive_service_KeyframeInterval": "2",
        "cognitive_service_MaxTimespanLength": "60",
        "cognitive_service_ImportUnknown": "false",
        "cognitive_service_DetectionThreshold": "0.7",
        "cognitive_service_StorageId": "VX-3",
    }

    parsed = parse_analyze_params(data, DEFAULTS, AnalyzeParams())

    assert parsed.analysis.threshold == 0.75 and parsed.analysis.interval_s == 2.0
    assert parsed.analysis.max_span_s == 60 and parsed.analysis.import_unknowns is False
    assert parsed.analysis.detection_threshold == 0.7
    assert parsed.unknown_collection == "UnknownIdentityCollection" and parsed.storage_id == "VX-3"


def test_missing_values_take_the_defaults() -> None:
    parsed = parse_analyze_params({"itemId": "VX-1"}, DEFAULTS, AnalyzeParams())

    assert parsed.analysis.threshold == DEFAULTS.confidence_threshold
    assert parsed.unknown_collection == "FoundByFaceAnalysis" and parsed.storage_id is None


@pytest.mark.parametrize(
    "key, value, reason",
    [
        ("cognitive_service_ConfidenceThreshold", "1.5", "between 0 and 1"),
        ("cognitive_service_ConfidenceThreshold", "high", "not a number"),
        ("cognitive_service_KeyframeInterval", "0", "between"),
        ("cognitive_service_KeyframeInterval", "nan", "between"),
        ("cognitive_service_ImportUnknown", "maybe", "true or false"),
        ("cognitive_service_StorageId", "../etc", "storage id"),
        ("cognitive_service_UnknownCollectionName", "a\nb", "printable"),
        ("cognitive_service_Confidence", "0.5", "not a parameter"),
    ],
)
def test_bad_parameters_fail_naming_the_parameter(key: str, value: str, reason: str) -> None:
    with pytest.raises(JobParameterError) as caught:
        parse_analyze_params({key: value}, DEFAULTS, AnalyzeParams())

    assert key in str(caught.value) and reason in str(caught.value)


def test_quality_setting_is_parsed_case_insensitively() -> None:
    assert parse_train_params({"cognitive_service_QualitySetting": "high"}, DEFAULTS).quality is Quality.HIGH
    assert parse_train_params({}, DEFAULTS).quality is Quality.MID


def test_analyze_parameter_on_a_train_job_is_refused() -> None:
    with pytest.raises(JobParameterError, match="cognitive_service_ConfidenceThreshold"):
        parse_train_params({"cognitive_service_ConfidenceThreshold": "0.5"}, DEFAULTS)
