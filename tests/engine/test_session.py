from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import onnxruntime as ort
import pytest

from vidiplug.engine.session import build_session, preferred_providers
from vidiplug.errors import EngineError, ModelNotFound

Builder = Callable[..., Path]


def test_preferred_providers_put_cuda_before_cpu_and_skip_azure_and_tensorrt() -> None:
    available = ["TensorrtExecutionProvider", "AzureExecutionProvider", "CPUExecutionProvider", "CUDAExecutionProvider"]

    assert preferred_providers(available) == ["CUDAExecutionProvider", "CPUExecutionProvider"]


def test_preferred_providers_without_cuda_is_cpu_only() -> None:
    assert preferred_providers(["AzureExecutionProvider", "CPUExecutionProvider"]) == ["CPUExecutionProvider"]


def test_preferred_providers_fail_when_neither_cuda_nor_cpu_exists() -> None:
    with pytest.raises(EngineError, match="AzureExecutionProvider"):
        preferred_providers(["AzureExecutionProvider"])


def test_session_reports_and_logs_the_providers_it_got(
    tmp_path: Path, make_recogniser: Builder, caplog: pytest.LogCaptureFixture
) -> None:
    model = make_recogniser(tmp_path / "rec.onnx")

    with caplog.at_level(logging.INFO, logger="vidiplug.engine"):
        session = build_session(model)

    assert "CPUExecutionProvider" in session.get_providers()
    lines = [r.getMessage() for r in caplog.records if r.name == "vidiplug.engine"]
    assert any("rec.onnx" in line and "CPUExecutionProvider" in line for line in lines)


def test_asking_for_a_provider_this_runtime_lacks_is_an_error(tmp_path: Path, make_recogniser: Builder) -> None:
    model = make_recogniser(tmp_path / "rec.onnx")

    with pytest.raises(EngineError, match=r"NoSuchExecutionProvider.*not available"):
        build_session(model, providers=["NoSuchExecutionProvider"])


def test_missing_model_file_raises_model_not_found_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match=r"absent.onnx"):
        build_session(tmp_path / "absent.onnx")


def test_corrupt_model_file_raises_engine_error_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a protobuf at all")

    with pytest.raises(EngineError, match=r"broken.onnx.*cannot load"):
        build_session(broken)


@pytest.mark.gpu
@pytest.mark.skipif(
    "CUDAExecutionProvider" not in ort.get_available_providers(),
    reason="CUDAExecutionProvider not among ONNX Runtime's providers (needs onnxruntime-gpu and a GPU)",
)
def test_cuda_is_chosen_when_available(tmp_path: Path, make_recogniser: Builder) -> None:
    model = make_recogniser(tmp_path / "rec.onnx")

    session = build_session(model)

    assert session.get_providers()[0] == "CUDAExecutionProvider"
