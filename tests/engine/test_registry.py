"""Engines own their knowledge: each carries its calibration, and one registry lists them for settings and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidiplug.cli import build_parser
from vidiplug.engine import dlib, insightface
from vidiplug.engine.base import EngineInfo
from vidiplug.engine.calibration import DecisionRules
from vidiplug.engine.config import EngineSettings
from vidiplug.engine.registry import ENGINES, EngineEntry, engine_names, load_engine
from vidiplug.errors import EngineError


def test_an_engine_info_cannot_be_built_without_a_calibration() -> None:
    with pytest.raises(TypeError, match="rules"):
        EngineInfo("dlib", "hog+resnet", "v1", 128)  # type: ignore[call-arg]


def test_dlib_carries_the_rules_measured_on_the_shared_photos(dlib_engine: dlib.DlibEngine) -> None:
    assert dlib_engine.info.rules == DecisionRules(
        floor=0.92, margin=0.01, cohort_mean=0.86, cohort_std=0.03, prior_weight=3.0, cohort_size=10,
        z_mid=2.7, z_scale=0.8, same_shot=0.86, group=0.95,
    )


def test_insightface_carries_arcfaces_rules(pack_dir: Path) -> None:
    engine = insightface.InsightFaceEngine(pack_dir=pack_dir)

    assert engine.info.rules == DecisionRules(
        floor=0.35, margin=0.05, cohort_mean=0.10, cohort_std=0.08, prior_weight=3.0, cohort_size=10,
        z_mid=2.5, z_scale=0.8, same_shot=0.2, group=0.45,
    )


def test_every_registered_engine_builds_from_settings() -> None:
    for entry in ENGINES:
        assert callable(entry.factory().from_settings), entry.name


def test_auto_builds_insightface_when_a_pack_is_installed(models_root: Path) -> None:
    engine = load_engine(EngineSettings(name="auto", models_root=models_root))

    assert engine.info.name == "insightface"


def test_auto_falls_back_to_dlib_when_no_pack_is_installed(tmp_path: Path) -> None:
    engine = load_engine(EngineSettings(name="auto", models_root=tmp_path))

    assert engine.info.name == "dlib"


def test_an_unknown_engine_name_is_refused_with_the_registered_choices() -> None:
    with pytest.raises(EngineError, match="'deepface'; choose one of auto, insightface, dlib"):
        load_engine(EngineSettings(name="deepface"))


def test_the_clis_engine_choices_are_the_registrys(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = EngineEntry("toy", "toy_engines:ToyEngine", "a toy")
    monkeypatch.setattr("vidiplug.engine.registry.ENGINES", (*ENGINES, extra))

    args = build_parser().parse_args(["analyze", "clip.mp4", "--engine", "toy"])

    assert args.engine == "toy"
    assert engine_names() == ("auto", "insightface", "dlib", "toy")
