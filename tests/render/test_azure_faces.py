"""Seed 003's face-detection JSON (``--format azure-faces``): the contract, on a shared clip and by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from vidiplug.engine.base import Box, EngineInfo
from vidiplug.engine.dlib import RULES, DlibEngine
from vidiplug.errors import ParameterError
from vidiplug.identity.gallery import Gallery
from vidiplug.media.probe import MediaInfo
from vidiplug.pipeline.analyze import analyze_media
from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.pipeline.results import AnalysisResult, FaceRecord, TrackRecord
from vidiplug.render.azure_faces import (
    AzureFacesOptions,
    build_azure_faces,
    event_times_s,
    normalised_box,
    timescale_for,
)

ENGINE = EngineInfo(name="dlib", model="hog+resnet", version="abc123", dim=128, rules=RULES)
SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "azure_faces.schema.json"


def check_schema(document: dict[str, Any]) -> None:
    """Validate against the repository's JSON Schema (jsonschema is a test dependency of the venv)."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(document)


@pytest.fixture(scope="module")
def hamilton_result(hamilton_clip: Path, dlib_engine: DlibEngine) -> AnalysisResult:
    """The shared Hamilton clip, analysed every 0.5 s with no gallery."""
    return analyze_media(hamilton_clip, dlib_engine, Gallery(dlib_engine.info), AnalyzeParams(interval_s=0.5))


@pytest.fixture(scope="module")
def hamilton_clip(data_dir: Path) -> Path:
    return data_dir / "face_recognition/examples/short_hamilton_clip.mp4"


def events_with_times(document: dict[str, Any]) -> Iterator[tuple[float, int, list[dict[str, Any]]]]:
    """(time in seconds, interval in ticks, faces) of every event of every fragment."""
    for fragment in document["fragments"]:
        for time_s, faces in zip(event_times_s(fragment, document["timescale"]), fragment.get("events", []),
                                 strict=True):
            yield time_s, fragment["interval"], faces


def test_the_document_holds_every_face_record_at_its_time_with_its_box(hamilton_result: AnalysisResult) -> None:
    result = hamilton_result
    built = build_azure_faces(result)
    document = built.document
    check_schema(document)
    media = result.media
    assert (document["width"], document["height"]) == (media.width, media.height) == (640, 360)
    assert document["framerate"] == pytest.approx(29.97)
    assert (document["timescale"], timescale_for(media.frame_rate, 0.5)[1]) == (11988, 400)
    assert document["version"] == 1 and document["offset"] == 0
    # The seed's arithmetic: start / timescale = seconds; seconds x framerate = frames.
    assert document["fragments"][0]["start"] == 0
    for before, after in zip(document["fragments"], document["fragments"][1:], strict=False):
        assert after["start"] == before["start"] + before["duration"]
    total_s = sum(f["duration"] for f in document["fragments"]) / document["timescale"]
    assert total_s == pytest.approx(media.duration_s, abs=0.5)

    kept = [f for f in result.faces if min(f.box.width, f.box.height) >= 24]
    assert len(kept) > 5 and built.dropped.too_small == len(result.faces) - len(kept)
    half_frame_s = 0.5 / media.fps
    events = list(events_with_times(document))
    assert sum(len(faces) for _, _, faces in events) == len(kept)
    for face in kept:
        # The face sits in the event of the last sampling target at or before its frame.
        matches = [(t, i, faces) for t, i, faces in events
                   if t <= face.time_s + half_frame_s < t + i / document["timescale"]]
        assert len(matches) == 1, face
        time_s, _, faces = matches[0]
        x, y, w, h = normalised_box(face, media.width, media.height)
        mine = [e for e in faces if e["id"] == face.track_id]
        assert len(mine) == 1
        assert (mine[0]["x"], mine[0]["y"], mine[0]["width"], mine[0]["height"]) == (x, y, w, h)
        assert mine[0]["x"] == pytest.approx(face.box.clipped(640, 360).x1 / 640, rel=1e-5)
        assert mine[0]["height"] == pytest.approx(face.box.clipped(640, 360).height / 360, rel=1e-5)
        assert face.time_s - time_s < result.interval_s + half_frame_s
        # seconds x framerate = frames: the record's frame is at most one interval after the event's.
        frames = time_s * document["framerate"]
        assert 0 <= round(face.time_s * media.fps) - frames < result.interval_s * media.fps + 1


def test_tracking_ids_are_stable_within_a_track_and_empty_fragments_have_no_events(
    hamilton_result: AnalysisResult,
) -> None:
    document = build_azure_faces(hamilton_result).document
    ids = {e["id"] for _, _, faces in events_with_times(document) for e in faces}
    assert ids <= {t.id for t in hamilton_result.tracks}
    for track in hamilton_result.tracks:
        times = [t for t, _, faces in events_with_times(document) for e in faces if e["id"] == track.id]
        assert len(times) == len([f for f in track.faces if min(f.box.width, f.box.height) >= 24])
    for fragment in document["fragments"]:
        if "events" in fragment:
            assert any(fragment["events"]) and fragment["interval"] > 0
        else:
            assert set(fragment) == {"start", "duration"}


def hand_made(faces: list[FaceRecord], *, duration_s: float = 6.0) -> AnalysisResult:
    media = MediaInfo(path="x.mp4", duration_s=duration_s, fps=25.0, width=1000, height=500,
                      frame_rate=Fraction(25))
    tracks = tuple(TrackRecord(id=tid, fingerprint=None, faces=tuple(f for f in faces if f.track_id == tid))
                   for tid in sorted({f.track_id for f in faces}))
    return AnalysisResult(media=media, engine=ENGINE, providers=(), interval_s=1.0,
                          frames_analyzed=6, faces_embedded=len(faces), people=(), analyzed_at=datetime.now(UTC),
                          elapsed_s=1.0, tracks=tracks)


def face(time_s: float, track: int, size: float = 100.0, score: float = 0.9) -> FaceRecord:
    return FaceRecord(time_s=time_s, box=Box(100.0, 50.0, 100.0 + size, 50.0 + size), det_score=score,
                      quality=0.5, track_id=track)


def test_limits_drop_small_faces_and_the_least_confident_beyond_the_maximum() -> None:
    faces = [face(3.0, tid, score=0.5 + tid / 100) for tid in range(5)] + [face(3.0, 9, size=20.0)]
    built = build_azure_faces(hand_made(faces), AzureFacesOptions(min_face_px=24, max_faces_per_frame=3))
    check_schema(built.document)
    assert (built.dropped.too_small, built.dropped.over_limit) == (1, 2)
    events = [faces for _, _, faces in events_with_times(built.document)]
    assert [[e["id"] for e in ev] for ev in events] == [[], [2, 3, 4]]
    with pytest.raises(ParameterError, match="max_faces_per_frame"):
        AzureFacesOptions(max_faces_per_frame=0)


def test_fragments_without_faces_have_no_interval_or_events_and_boxes_are_normalised() -> None:
    result = hand_made([face(4.0, 7), face(5.0, 7)])
    document = build_azure_faces(result).document
    check_schema(document)
    assert document["timescale"] == 30000 and timescale_for(Fraction(25)) == (30000, 1200)
    assert document["fragments"] == [
        {"start": 0, "duration": 60000},
        {"start": 60000, "duration": 60000},
        {"start": 120000, "duration": 60000, "interval": 30000, "events": [
            [{"id": 7, "x": 0.1, "y": 0.1, "width": 0.1, "height": 0.2}],
            [{"id": 7, "x": 0.1, "y": 0.1, "width": 0.1, "height": 0.2}]]},
    ]
    broken = replace(result, tracks=())
    bad = build_azure_faces(broken).document
    bad["fragments"][0]["events"] = []  # type: ignore[index]
    jsonschema = pytest.importorskip("jsonschema")
    with pytest.raises(jsonschema.ValidationError):
        check_schema(bad)


def test_cli_writes_the_document(tmp_path: Path, hamilton_clip: Path, hamilton_result: AnalysisResult) -> None:
    out = tmp_path / "faces.json"
    run = subprocess.run([sys.executable, "-m", "vidiplug", "analyze", str(hamilton_clip), "--format", "azure-faces",
                          "--engine", "dlib", "--interval", "0.5", "--max-faces", "1", "--out", str(out)],
                         capture_output=True, text=True, timeout=240, check=False)
    assert run.returncode == 0, run.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    check_schema(document)
    expected = build_azure_faces(hamilton_result, AzureFacesOptions(max_faces_per_frame=1))
    assert document == expected.document
    dropped = expected.dropped
    assert f"azure-faces: dropped {dropped.too_small} faces under 24 px and {dropped.over_limit} over 1 per frame" \
        in run.stderr
