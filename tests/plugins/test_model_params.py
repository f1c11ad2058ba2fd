"""The models' job parameters and settings: names only, never addresses; frame selection per job."""

from __future__ import annotations

import pytest

from vidiplug.cli.service_commands import _check_models
from vidiplug.errors import ConfigError, JobParameterError
from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.service.params import parse_analyze_params, parse_model_params
from vidiplug.settings import AnalysisDefaults, ModelSettings, Settings, load_settings


def test_a_job_names_models_and_their_frames() -> None:
    data = {"cognitive_service_Models": "shot-type, logos,shot-type", "cognitive_service_ModelFrameInterval": "2",
            "cognitive_service_ModelSkipFrames": "3", "cognitive_service_ModelPageSize": "10",
            "cognitive_service_ModelFramesWith": "person:Ann Example"}
    params = parse_model_params(data, ModelSettings(run=("other",)))
    assert params.names == ("shot-type", "logos")
    assert (params.selection.every_s, params.selection.skip, params.selection.page_size, params.selection.only) == \
        (2.0, 3, 10, "person:Ann Example")
    parse_analyze_params(data, AnalysisDefaults(), AnalyzeParams())  # the face parameters accept them too
    assert parse_model_params({}, ModelSettings(run=("other",))).names == ("other",)
    assert parse_model_params({"cognitive_service_Models": ""}, ModelSettings(run=("other",))).names == ()


@pytest.mark.parametrize(("name", "text"), [
    ("Models", "http://127.0.0.1:1/steal"), ("Models", "<b>x</b>"), ("ModelFramesWith", "logos"),
    ("ModelFramesWith", "person:  "), ("ModelPageSize", "-1"), ("ModelFrameInterval", "0"),
])
def test_bad_model_parameters_are_refused_by_name(name: str, text: str) -> None:
    with pytest.raises(JobParameterError, match=f"cognitive_service_{name}"):
        parse_model_params({f"cognitive_service_{name}": text}, ModelSettings())


def test_check_lists_the_models_and_loads_those_every_analysis_runs() -> None:
    line = _check_models(load_settings(None, {"VIDIPLUG_MODELS__HTTP": "logos=http://127.0.0.1:9/x",
                                              "VIDIPLUG_MODELS__RUN": "shot-type"}))
    assert line == "custom models: shot-type (in-process), logos (http); every analysis runs: shot-type"
    with pytest.raises(ConfigError, match=r"models\.run"):
        _check_models(Settings(models=ModelSettings(run=("absent",))))
