"""In-process models: entry points in the group vidiplug.models, found through importlib.metadata.

A test-only distribution (a dist-info folder on sys.path) registers the plugins; nothing is
installed into the environment.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from byom_data import ANN, MEDIA, face, frames, result_with
from vidiplug.cli import main
from vidiplug.errors import ModelError
from vidiplug.examples.shot_type import ShotTypeModel, classify
from vidiplug.pipeline.byom import FrameSelection, ModelRequest, pick_frames, run_model
from vidiplug.plugins import installed_models, load_models
from vidiplug.settings import ModelSettings

pytestmark = pytest.mark.timeout(300)
PLUGIN = textwrap.dedent('''
    class FrameCountModel:
        name = "frame-count"

        def analyze(self, request):
            faces = sum(len(frame.faces) for frame in request.frames)
            return {"name": self.name, "displayName": "Frames seen", "results": [
                {"id": "frames", "type": f"{len(request.frames)} frames", "metaData": f"{faces} faces",
                 "instances": [{"confidence": 1.0, "start": "0:00:00.00", "end": "0:00:00.00"}]}]}


    def crashy():
        class Crashy:
            name = "crashy"

            def analyze(self, request):
                raise RuntimeError("the plugin's own bug")
        return Crashy()
''')
ENTRY_POINTS = textwrap.dedent('''
    [vidiplug.models]
    frame-count = vidiplug_test_plugin:FrameCountModel
    crashy = vidiplug_test_plugin:crashy
    missing = vidiplug_test_plugin_absent:Nothing
    Bad_Name = vidiplug_test_plugin:FrameCountModel
''')


@pytest.fixture
def test_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    info = site / "vidiplug_test_models-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: vidiplug-test-models\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    (site / "vidiplug_test_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(site))
    return site


def test_entry_points_are_found_and_loaded(test_distribution: Path) -> None:
    installed = installed_models()
    assert installed["frame-count"] == "vidiplug_test_plugin:FrameCountModel"
    assert installed["shot-type"] == "vidiplug.examples.shot_type:ShotTypeModel"
    assert "Bad_Name" not in installed
    count, crashy = load_models(["frame-count", "crashy"], ModelSettings())
    assert (count.name, crashy.name) == ("frame-count", "crashy")
    with pytest.raises(ModelError) as caught:
        load_models(["missing"], ModelSettings())
    assert caught.value.field == "entry point" and "cannot be loaded" in caught.value.reason
    request = ModelRequest("crashy", MEDIA, 1.0, (), {})
    with pytest.raises(ModelError, match="RuntimeError: the plugin's own bug"):
        run_model(crashy, request)


def test_models_lists_engines_and_custom_models(test_distribution: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    shown = capsys.readouterr().out
    assert "face engines:" in shown and "dlib" in shown
    assert "custom model: frame-count  (in-process, vidiplug_test_plugin:FrameCountModel)" in shown
    assert "custom model: shot-type" in shown


def test_shot_type_classifies_by_face_height() -> None:
    assert [classify(h, 100) for h in (50, 30, 29, 12, 5)] == ["close-up", "close-up", "medium", "medium", "wide"]
    result = result_with([face(0.0, ANN, height=20.0), face(1.0, ANN, height=20.0), face(2.0, ANN, height=3.0),
                          face(4.0, ANN, height=20.0)])
    chosen = tuple(pick_frames(frames([0.0, 1.0, 2.0, 3.0, 4.0]), result, FrameSelection(), 1.0))
    insights = run_model(ShotTypeModel(), ModelRequest("shot-type", MEDIA, 1.0, chosen, {}))
    spans = {r.id: [(i.start_s, i.end_s) for i in r.instances] for r in insights.results}
    assert spans == {"close-up": [(0.0, 2.0), (4.0, 5.0)], "wide": [(2.0, 3.0)]}


def test_analyze_runs_in_process_models(test_distribution: Path, data_dir: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    photo = data_dir / "face_recognition/examples/lin-manuel-miranda.png"
    out = tmp_path / "report.json"

    code = main(["analyze", str(photo), "--engine", "dlib", "--model", "frame-count", "--model", "shot-type",
                 "--model", "crashy", "--model-frames-with", "faces", "--out", str(out)])

    report = json.loads(out.read_text())
    assert code == 2  # a model failed; the document is written all the same
    assert len(report["people"]) == 1
    by_name = {i["name"]: i for i in report["customInsights"]}
    assert set(by_name) == {"frame-count", "shot-type"}
    assert by_name["frame-count"]["results"][0]["type"] == "1 frames"
    assert by_name["frame-count"]["results"][0]["metaData"] == "1 faces"
    assert by_name["shot-type"]["results"][0]["id"] in ("close-up", "medium")
    assert report["modelErrors"] == [{"name": "crashy", "field": "model",
                                      "error": "model crashy: model: raised RuntimeError: the plugin's own bug"}]
    assert "model crashy" in capsys.readouterr().err

    assert main(["analyze", str(photo), "--engine", "dlib", "--model", "no-such-model"]) == 2
    assert "neither installed nor configured" in capsys.readouterr().err
