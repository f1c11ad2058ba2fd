from __future__ import annotations

import shutil
from pathlib import Path

from vidiplug.engine.dlib import DlibEngine
from vidiplug.identity.store import SqliteStore
from vidiplug.pipeline.train import TrainingImage, train_images


def _images(data_dir: Path) -> list[TrainingImage]:
    return [
        TrainingImage("VX-1", "Barack Obama", data_dir / "face_recognition/examples/obama.jpg"),
        TrainingImage("VX-2", "Joe Biden", data_dir / "face_recognition/examples/biden.jpg"),
        TrainingImage("VX-3", "Crowd", data_dir / "face_recognition/examples/two_people.jpg"),
    ]


def test_training_accepts_single_faces_and_gives_reasons(dlib_engine: DlibEngine, data_dir: Path,
                                                         tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.sqlite") as store:
        outcomes = train_images(_images(data_dir), dlib_engine, store, min_quality=0.3)
        gallery = store.load_gallery(dlib_engine.info)

    assert [o.accepted for o in outcomes] == [True, True, False]
    assert "2 faces" in (outcomes[2].reason or "")
    assert sorted(i.name or "" for i in gallery.identities) == ["Barack Obama", "Joe Biden"]


def test_retraining_is_incremental_and_follows_renames_and_removals(
    dlib_engine: DlibEngine, data_dir: Path, tmp_path: Path
) -> None:
    images = _images(data_dir)[:2]
    with SqliteStore(tmp_path / "s.sqlite") as store:
        train_images(images, dlib_engine, store, min_quality=0.0)

        renamed = [TrainingImage("VX-1", "President Obama", images[0].path)]
        outcomes = train_images(renamed, dlib_engine, store, min_quality=0.0)
        gallery = store.load_gallery(dlib_engine.info)

    assert outcomes[0].reused
    assert [(i.name) for i in gallery.identities] == ["President Obama"]
    assert gallery.vectors.shape[0] == 1


def test_quality_setting_rejects_poor_images(dlib_engine: DlibEngine, data_dir: Path, tmp_path: Path) -> None:
    small = tmp_path / "small.jpg"
    shutil.copy(data_dir / "face_recognition/examples/obama_small.jpg", small)
    with SqliteStore(tmp_path / "s.sqlite") as store:
        strict = train_images([TrainingImage("VX-9", "Obama", small)], dlib_engine, store, min_quality=0.99)

    assert not strict[0].accepted and "quality" in (strict[0].reason or "")


def test_a_doubtful_second_detection_does_not_reject_a_clear_portrait(dlib_engine: DlibEngine, tmp_path: Path) -> None:
    # The NASA portrait: one clear face (detection ~0.9) and her mission badge, which HOG
    # takes for a face at ~0.56. The badge must not make the training image ambiguous.
    from vidiplug.media.samples import sample_path

    portrait = sample_path("sample:astronaut", tmp_path / "samples")
    with SqliteStore(tmp_path / "s.sqlite") as store:
        outcomes = train_images([TrainingImage("VX-5", "Eileen Collins", portrait)], dlib_engine, store,
                                min_quality=0.3)
        gallery = store.load_gallery(dlib_engine.info)

    assert outcomes[0].accepted, outcomes[0].reason
    assert [i.name for i in gallery.identities] == ["Eileen Collins"]
