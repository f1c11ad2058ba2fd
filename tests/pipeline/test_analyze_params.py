"""AnalyzeParams refuses values out of range with a ParameterError that names the parameter."""

from __future__ import annotations

import pytest

from vidiplug.errors import JobParameterError, ParameterError, VidiplugError
from vidiplug.pipeline.params import AnalyzeParams


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("interval_s", 0.0, "must be positive"),
    ("threshold", 1.5, "must be between 0 and 1"),
    ("detection_threshold", -0.1, "must be between 0 and 1"),
    ("unknown_min_detection", 2.0, "must be between 0 and 1"),
    ("min_face_px", 0, "must be at least 1"),
    ("max_span_s", -1.0, "must not be negative"),
    ("workers", 0, "must be at least 1"),
    ("keep_vectors", 0, "must be at least 1"),
])
def test_a_value_out_of_range_names_its_parameter(name: str, value: float, reason: str) -> None:
    with pytest.raises(ParameterError) as raised:
        AnalyzeParams(**{name: value})

    assert (raised.value.name, raised.value.value, raised.value.reason) == (name, value, reason)
    assert str(raised.value) == f"{name}={value!r}: {reason}"


def test_a_job_parameter_error_is_a_parameter_error() -> None:
    error = JobParameterError("cognitive_service_ConfidenceThreshold", "x" * 500, "is not a number")

    assert isinstance(error, ParameterError) and isinstance(error, VidiplugError)
    assert "\n" not in str(error) and str(error).startswith("cognitive_service_ConfidenceThreshold='xxx")
    assert str(error).endswith("(500 characters): is not a number")
