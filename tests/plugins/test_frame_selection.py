"""Frame selection (seed 001): every N seconds, skip and page size, only frames with a prior insight."""

from __future__ import annotations

from pathlib import Path

import pytest

from byom_data import ANN, BOB, face, frames, result_with
from vidiplug.media import probe_media
from vidiplug.pipeline.byom import FrameSelection, pick_frames, select_model_frames

TIMES = [float(t) for t in range(10)]
# Faces at 1 s (Ann), 2 s (Bob), 3 s (Ann and Bob), 7 s (nobody reported).
RESULT = result_with([face(1.0, ANN), face(2.0, BOB), face(3.0, ANN), face(3.0, BOB, track=2), face(7.0, None)])


def picked(selection: FrameSelection, times: list[float] = TIMES) -> list[float]:
    return [f.time_s for f in pick_frames(frames(times), RESULT, selection, 1.0)]


def test_every_frame_skip_and_page_size() -> None:
    assert picked(FrameSelection()) == TIMES
    assert picked(FrameSelection(skip=3)) == TIMES[3:]
    assert picked(FrameSelection(skip=2, page_size=3)) == [2.0, 3.0, 4.0]
    assert picked(FrameSelection(skip=20)) == []
    assert picked(FrameSelection(max_frames=4)) == TIMES[:4]
    assert picked(FrameSelection(page_size=6, max_frames=4)) == TIMES[:4]


def test_only_frames_with_faces_or_with_a_named_person() -> None:
    assert picked(FrameSelection(only="faces")) == [1.0, 2.0, 3.0, 7.0]
    assert picked(FrameSelection(only="faces", skip=1, page_size=2)) == [2.0, 3.0]
    assert picked(FrameSelection(only="person:ann")) == [1.0, 3.0]
    assert picked(FrameSelection(only="person:Nobody")) == []


def test_each_frame_gets_the_prior_insights_of_its_sample() -> None:
    chosen = list(pick_frames(frames([0.9, 3.2, 5.0]), RESULT, FrameSelection(), 1.0))
    assert [len(f.faces) for f in chosen] == [1, 2, 0]
    assert {f.fingerprint for f in chosen[1].faces} == {ANN, BOB}
    assert [f.index for f in chosen] == [0, 1, 2]


def test_bad_selections_are_refused() -> None:
    for kwargs in ({"every_s": 0.0}, {"skip": -1}, {"only": "logos"}, {"only": "person: "}, {"max_frames": 0}):
        with pytest.raises(ValueError):
            FrameSelection(**kwargs)  # type: ignore[arg-type]


def test_counts_on_a_real_video(data_dir: Path) -> None:
    clip = data_dir / "face_recognition/examples/short_hamilton_clip.mp4"
    media = probe_media(clip)
    result = result_with([face(2.0, ANN), face(4.0, ANN)], media=media, interval_s=1.0)
    every = select_model_frames(clip, result, FrameSelection(every_s=2.0))
    expected = int(media.duration_s // 2.0) + (1 if media.duration_s % 2.0 > 0.05 else 0)
    assert abs(len(every) - expected) <= 1 and len(every) >= 4
    assert all(f.image.ndim == 3 and (f.width, f.height) == (media.width, media.height) for f in every)
    paged = select_model_frames(clip, result, FrameSelection(every_s=1.0, skip=1, page_size=3))
    assert [round(f.time_s) for f in paged] == [1, 2, 3]
    with_faces = select_model_frames(clip, result, FrameSelection(every_s=1.0, only="person:Ann"))
    assert [round(f.time_s) for f in with_faces] == [2, 4]
