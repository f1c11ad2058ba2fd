"""benchmarks/detection.py: its imglab parsing, matching and size banding on hand-made inputs,
and one run of its main function on the shared data (baseline and default engine only).

Timings are not asserted (they vary with the machine); counts on the shared faces are.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"


def _load() -> ModuleType:
    """benchmarks/detection.py as a module (benchmarks/ on sys.path for its shared_clips import)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("detection_benchmark", BENCHMARKS / "detection.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = _load()


def test_parse_imglab_splits_ignored_boxes(tmp_path: Path) -> None:
    (tmp_path / "set.xml").write_text(
        "<?xml version='1.0'?><dataset><images>"
        "<image file='a.jpg'><box top='10' left='20' width='30' height='40'/>"
        "<box top='0' left='0' width='5' height='5' ignore='1'/></image>"
        "<image file='sub/b.jpg'></image>"
        "</images></dataset>")
    a, b = bench.parse_imglab(tmp_path / "set.xml")
    assert a.path == tmp_path / "a.jpg"
    assert a.faces == [(20.0, 10.0, 50.0, 50.0)]
    assert a.ignored == [(0.0, 0.0, 5.0, 5.0)]
    assert b.path == tmp_path / "sub" / "b.jpg" and b.faces == [] and b.ignored == []


def test_iou() -> None:
    assert bench.iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert bench.iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert bench.iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert bench.iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0


def test_match_is_one_to_one_and_greedy_by_iou() -> None:
    faces = [(0, 0, 10, 10), (100, 100, 110, 110)]
    detections = [(1, 0, 11, 10), (0, 0, 10, 10), (100, 100, 110, 110), (50, 50, 60, 60)]
    pairs = bench.match(detections, faces, 0.3)
    # The exact box takes face 0; the shifted one (IoU 0.82) is left over; the far one matches nothing.
    assert sorted((i, j) for i, j, _ in pairs) == [(1, 0), (2, 1)]
    assert all(overlap == 1.0 for _, _, overlap in pairs)
    # Below the threshold nothing matches.
    assert bench.match([(5, 0, 15, 10)], [(0, 0, 10, 10)], 0.34) == []
    assert len(bench.match([(5, 0, 15, 10)], [(0, 0, 10, 10)], 0.33)) == 1


def test_score_image_ignored_boxes_are_neither_miss_nor_false_positive(tmp_path: Path) -> None:
    image = bench.AnnotatedImage(tmp_path / "x.jpg", faces=[(0, 0, 10, 10)], ignored=[(50, 50, 60, 60)])
    score = bench.score_image([(0, 0, 10, 10), (50, 50, 60, 60), (80, 80, 90, 90)], image, 0.3)
    assert score.matches == [(0, 1.0)]
    assert score.false_positives == 1  # only the box on nothing
    assert bench.score_image([], image, 0.3) == bench.ImageScore([], 0)


@pytest.mark.parametrize(("width", "height", "band"), [
    (39, 100, "<40"), (100, 39.9, "<40"), (40, 40, "40-80"), (79, 200, "40-80"), (80, 80, ">=80"), (300, 90, ">=80"),
])
def test_size_band_uses_the_shorter_side(width: float, height: float, band: str) -> None:
    assert bench.size_band((10, 10, 10 + width, 10 + height)) == band


def test_main_json_baseline_and_default(capsys: pytest.CaptureFixture[str]) -> None:
    if not (bench.FACES_DIR / "training.xml").is_file():
        pytest.skip(f"shared data not found at {bench.DATA}")
    assert bench.main(["--json", "--detect-size", "none", "--repeat", "1", "--runs", "1", "--scales", "1.0"]) == 0
    report = json.loads(capsys.readouterr().out)
    faces = report["faces"]
    assert faces["images"] == 4 and faces["faces"] == 18 and faces["ignored"] == 0
    assert faces["faces_by_band"] == {"<40": 9, "40-80": 7, ">=80": 2}
    base, default = faces["detectors"]
    assert base["detector"] == "baseline HOG upsample 1"
    assert default["detect_size"] == 1280 and default["scale"] == [2.0, 2.0]  # ~500 px images: capped at 2x
    for row in (base, default):
        assert row["faces"] == 18
        assert sum(band["found"] for band in row["by_band"].values()) == row["found"]
        assert row["detections"] == row["found"] + row["false_positives"]
        assert row["median_ms"] > 0
        # HOG at 2x finds every one of these faces (sizes 37-91 px), and nothing else.
        assert row["recall"] == 1.0 and row["false_positives"] == 0
    assert base["time_ratio_vs_baseline"] == 1.0
    video = report["video"]
    assert video["frame"] == [1280, 720]
    assert [row["size"] for row in video["scales"]] == [[1280, 720]]
    assert video["scales"][0]["median_ms"] > 0
