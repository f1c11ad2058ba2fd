"""Media with odd timing metadata (issue 12, item 5): degenerate average rates, huge gaps, variable rates.

Every file is written at test time with explicit presentation times.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from generated_media import portrait, write_rated_clip, write_timed_clip
from vidiplug.engine.dlib import DlibEngine
from vidiplug.media import probe_media
from vidiplug.media.frames import sample_frames
from vidiplug.pipeline.analyze import analyze_media
from vidiplug.render.metadata_xml import build_metadata_document
from vidiplug.render.timecode import MILLISECONDS, timebase_for_rate

NS = "{http://xml.vidispine.com/schema/vidispine}"
# 30 fps for 2 s, a pause of 98 s, 30 fps for 2 s again: averages 20/17 fps.
PAUSED_30_FPS_S = [i / 30 for i in range(60)] + [100 + i / 30 for i in range(60)]


def test_face_at_0_1_and_1e6_s_is_reported_in_millisecond_time_codes(tmp_path: Path, dlib_engine: DlibEngine) -> None:
    clip = tmp_path / "three frames over 11 days.mp4"
    write_timed_clip(clip, [0.0, 1.0, 1_000_000.0], portrait())

    result = analyze_media(clip, dlib_engine)
    document = build_metadata_document(result)

    assert probe_media(clip).fps < 1e-5  # 3 frames in 1,000,001 s: the rate that divided by zero
    spans = [(span.get("start"), span.get("end")) for span in document.iter(f"{NS}timespan")]
    assert spans == [("0@1000", "2000@1000"), ("1000000000@1000", "1000001000@1000")]


def test_paused_clip_samples_the_first_frame_at_or_after_each_second(tmp_path: Path) -> None:
    clip = tmp_path / "paused.mp4"
    write_timed_clip(clip, PAUSED_30_FPS_S, portrait(64), rate=30)

    times = [round(frame.time_s, 3) for frame in sample_frames(clip, 1.0)]

    assert times == [0.0, 1.0, 100.0, 101.0]


def test_variable_rate_clip_counts_time_codes_in_milliseconds(tmp_path: Path) -> None:
    clip = tmp_path / "paused.mp4"
    write_timed_clip(clip, PAUSED_30_FPS_S, portrait(64), rate=30)

    info = probe_media(clip)

    assert info.frame_rate is None  # the average, 20/17 fps, is no grid the frames lie on
    assert abs(info.fps - 20 / 17) < 1e-9
    assert timebase_for_rate(info.frame_rate) == MILLISECONDS


def test_header_claiming_a_million_fps_counts_time_codes_in_milliseconds(tmp_path: Path) -> None:
    clip = tmp_path / "absurd rate.mkv"
    write_rated_clip(clip, [0.0, 1.0, 2.0, 3.0], rate=1_000_000)

    info = probe_media(clip)

    assert timebase_for_rate(info.frame_rate) == MILLISECONDS
    assert [frame.time_s for frame in sample_frames(clip, 1.0)] == [0.0, 1.0, 2.0, 3.0]


def test_header_claiming_one_frame_per_million_s_keeps_true_frame_times(tmp_path: Path) -> None:
    clip = tmp_path / "absurd slow rate.mkv"
    write_rated_clip(clip, [0.0, 1.0, 2.0, 3.0], rate=Fraction(1, 1_000_000))

    frames = list(sample_frames(clip, 1.0))

    assert [frame.time_s for frame in frames] == [0.0, 1.0, 2.0, 3.0]
