"""The benchmark scripts the README's figures come from still run and report what they measured.

Timings are not asserted (they vary with the machine); counts are: the frames sampled at
interval 1.0, and track reuse embedding no more faces than the baseline.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_script(name: str, *args: str) -> str:
    """stdout of ``benchmarks/NAME`` run with this interpreter; fails the test on a non-zero exit."""
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / name), *args],
        check=False, capture_output=True, text=True, timeout=600, cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_analyze_speed_reports_both_sides(hamilton_clip: Path) -> None:
    rows = json.loads(run_script("analyze_speed.py", "--repeat", "1", "--json", str(hamilton_clip)))
    assert [r["engine"] for r in rows] == ["dlib"]  # no insightface pack here
    row = rows[0]
    assert row["clip"] == hamilton_clip.name
    assert row["frames"] == 10  # 10.02 s sampled at 0, 1, ..., 9 s
    assert row["duration_s"] == 10.02
    assert row["realtime_x"] > 0 and row["baseline_realtime_x"] > 0
    # The script rounds the ratio of unrounded times; recomputing it from the printed
    # (3-decimal) times can differ by those times' rounding, so allow exactly that much.
    wall, base = row["wall_s"], row["baseline_wall_s"]
    ratio = wall / base
    rounding = 0.0005 + ratio * (0.0005 / wall + 0.0005 / base)
    assert abs(row["time_ratio_vs_baseline"] - ratio) <= rounding
    assert row["peak_rss_mb"] > 0 and row["baseline_peak_rss_mb"] > 0
    # Track reuse embeds no more faces than the baseline, which embeds every face it finds.
    assert 0 < row["faces_embedded"] <= row["baseline_faces_embedded"]
    # The emotion column: one expression-model run per embedded face.
    assert row["emotion_faces_scored"] == row["faces_embedded"] and row["emotion_realtime_x"] > 0


def test_stage_times_reports_every_stage(hamilton_clip: Path) -> None:
    out = run_script("stage_times.py", "--repeat", "1", str(hamilton_clip))
    line = out.strip().splitlines()[-1]
    assert line.startswith(hamilton_clip.name)
    assert re.search(r"\b10 frames\b", line)
    for stage in ("decode", "detect", "embed", "emotion"):
        assert re.search(rf"{stage}\s+\d+(\.\d+)? ms", line), line
    ratios = [float(r) for r in re.findall(r"ratio (\d+\.\d+)", line)]
    assert len(ratios) == 2 and all(r > 0 for r in ratios)
