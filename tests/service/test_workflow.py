"""Seed 002's whole workflow against mock_vidicore and moto, the service running for real.

register → configure → upload training images → train → analyze a real clip → known
person's timespans within one keyframe interval of the MANIFEST → unknown faces become
items in FoundByFaceAnalysis → rename one → the timeline shows the name → delete another →
re-analyze → it is not re-imported. Plus job failures that leave the service running.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from operator_api import Operator, field_values, job_data
from support import wait_for
from tracks_support import check_emotions, emotion_values, tracks_shapes, tracks_uri
from vidiplug.render.timecode import parse_timecode

HAMILTON = "face_recognition/examples/short_hamilton_clip.mp4"
CROWD = "facenet_pytorch/examples/video.mp4"  # pedestrians, nobody named (MANIFEST)
LIN_PHOTO = "face_recognition/examples/lin-manuel-miranda.png"
LIN_START_S, LIN_END_S = 3.5, 8.0  # MANIFEST: Lin-Manuel Miranda medium shot
INTERVAL_S = 1.0
UNKNOWN_COLLECTION = "FoundByFaceAnalysis"


def faces(operator: Operator, item_id: str) -> list[dict[str, Any]]:
    """The item's face values: start/end seconds, fingerprint, name (from the raw JSON metadata)."""
    found = []
    for span in operator.metadata(item_id).get("timespan", []) or []:
        if span.get("start") == "-INF":
            continue
        for group in span.get("group", []) or []:
            if not str(group.get("name", "")).startswith("adu_face_"):
                continue
            for value in group.get("group", []) or []:
                fields = {f["name"]: f["value"][0]["value"] for f in value.get("field", []) or [] if f.get("value")}
                found.append({"start": float(parse_timecode(span["start"])), "end": float(parse_timecode(span["end"])),
                              "fingerprint": fields["adu_av_valueId"], "name": fields["adu_av_value"]})
    return found


def unknown_items(operator: Operator) -> dict[str, str]:
    """fingerprint → item id of every item in the unknown collection."""
    collection = operator.collection_id(UNKNOWN_COLLECTION)
    if collection is None:
        return {}
    found = {}
    for item in operator.collection_items(collection):
        ids = field_values(operator.metadata(item), "vcs_face_externalId")
        if ids:
            found[ids[0]] = item
    return found


def test_train_analyze_rename_delete_reanalyze(start_service, operator: Operator, data_dir: Path) -> None:
    app = start_service()
    reg = app.registration
    assert reg is not None

    # Configuration applied: the training collection exists and is marked.
    training = operator.collection_id("FaceTrainingDataset")
    assert training == reg.training_collection_id
    assert operator.call("GET", "metadata-field/vcs_face_externalId")["type"] == "string"

    # Training material as Vidispine's UI uploads it, then train.
    photo = operator.import_file(data_dir / LIN_PHOTO, ("vcs_face_isTrainingMaterial", "true"),
                                 ("vcs_face_value", "Lin-Manuel Miranda"))
    operator.add_to_collection(training, photo)
    train_job = operator.wait_job(operator.train(training, reg.resource_id, reg.callback_id, QualitySetting="Mid"))
    assert train_job["status"] == "FINISHED", train_job
    assert field_values(operator.metadata(photo), "vcs_face_method") == ["TRAINED"]

    # Analyse the real clip: Lin-Manuel Miranda within one keyframe interval of the MANIFEST.
    clip = operator.import_file(data_dir / HAMILTON)
    job = operator.wait_job(operator.analyze(clip, reg.resource_id, reg.callback_id,
                                             KeyframeInterval=str(INTERVAL_S)))
    assert job["status"] == "FINISHED", job
    lin = [f for f in faces(operator, clip) if f["name"] == "Lin-Manuel Miranda"]
    main = max(lin, key=lambda f: f["end"] - f["start"])
    assert abs(main["start"] - LIN_START_S) <= INTERVAL_S
    assert abs(main["end"] - LIN_END_S) <= INTERVAL_S + 0.1

    # Strangers in a crowd become unknown items in FoundByFaceAnalysis, one per fingerprint.
    crowd = operator.import_file(data_dir / CROWD)
    assert operator.wait_job(operator.analyze(crowd, reg.resource_id, reg.callback_id))["status"] == "FINISHED"
    shown = {f["fingerprint"] for f in faces(operator, crowd) if f["name"] == "Unknown"}
    unknowns = unknown_items(operator)
    assert len(shown) >= 2 and shown <= set(unknowns)
    named_fp, deleted_fp = sorted(shown)[:2]
    shapes = operator.shapes(unknowns[named_fp])
    assert any("vcs_face_thumbnail" in (s.get("tag") or []) for s in shapes)

    # The archivist names one unknown: the crowd item's timeline follows.
    operator.set_fields(unknowns[named_fp], ("vcs_face_value", "Pat Passerby"))
    wait_for(lambda: any(f["fingerprint"] == named_fp and f["name"] == "Pat Passerby"
                         for f in faces(operator, crowd)), 60, "the timeline to show the new name")

    # ... and deletes another: re-analysis neither re-imports it nor shows it.
    operator.delete_item(unknowns[deleted_fp])
    again = operator.wait_job(operator.analyze(crowd, reg.resource_id, reg.callback_id))
    assert again["status"] == "FINISHED", again
    assert deleted_fp not in unknown_items(operator)
    assert operator.items_with("vcs_face_externalId", deleted_fp) == []
    after = faces(operator, crowd)
    assert deleted_fp not in {f["fingerprint"] for f in after}
    assert any(f["fingerprint"] == named_fp and f["name"] == "Pat Passerby" for f in after)
    assert len(unknown_items(operator)) == len(unknowns) - 1  # nothing new imported twice


def test_a_corrupt_video_fails_its_job_and_the_next_job_succeeds(start_service, operator: Operator,
                                                                 data_dir: Path, tmp_path: Path) -> None:
    app = start_service(service__workers=1)
    reg = app.registration
    assert reg is not None
    corrupt = tmp_path / "broken.mp4"
    corrupt.write_bytes((data_dir / HAMILTON).read_bytes()[:4096])  # the header, then nothing
    bad = operator.import_file(corrupt)
    good = operator.import_file(data_dir / "face_recognition/examples/obama.jpg")

    failed = operator.wait_job(operator.analyze(bad, reg.resource_id, reg.callback_id))
    finished = operator.wait_job(operator.analyze(good, reg.resource_id, reg.callback_id))

    assert failed["status"] == "FAILED_TOTAL"
    assert "broken.mp4" in job_data(failed)["failureReason"]
    assert finished["status"] == "FINISHED"
    assert float(finished["currentStep"]["progress"]["value"]) >= 10  # the service reported how far it got
    assert field_values(operator.metadata(good), "adu_av_valueId")


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("ConfidenceThreshold", "high", "cognitive_service_ConfidenceThreshold"),
    ("KeyframeInterval", "-1", "cognitive_service_KeyframeInterval"),
    ("FaceSize", "10", "cognitive_service_FaceSize"),
])
def test_a_bad_parameter_fails_the_job_naming_it(start_service, operator: Operator, data_dir: Path,
                                                 name: str, value: str, expected: str) -> None:
    app = start_service()
    reg = app.registration
    assert reg is not None
    item = operator.import_file(data_dir / "face_recognition/examples/obama.jpg")

    job = operator.wait_job(operator.analyze(item, reg.resource_id, reg.callback_id, **{name: value}))

    assert job["status"] == "FAILED_TOTAL"
    assert expected in job_data(job)["failureReason"]


def test_a_missing_shape_tag_fails_the_job_naming_the_tag(start_service, operator: Operator, data_dir: Path) -> None:
    app = start_service()
    reg = app.registration
    assert reg is not None
    item = operator.import_file(data_dir / "face_recognition/examples/obama.jpg")
    job_id = str(operator.call("POST", f"item/{item}/analyze", json={}, params={
        "resourceId": reg.resource_id, "callbackId": reg.callback_id, "tag": "lowres"})["jobId"])

    job = operator.wait_job(job_id)

    assert job["status"] == "FAILED_TOTAL"
    assert "lowres" in job_data(job)["failureReason"]


def test_two_instances_never_run_the_same_job(start_service, operator: Operator, data_dir: Path,
                                              tmp_path: Path) -> None:
    shared = {"vidicore__resource_name": "vidiplug-pair", "store": tmp_path / "shared.sqlite",
              "service__workers": 2, "service__poll_interval_s": 0.05}
    first = start_service(instance="host-a", **shared)
    second = start_service(instance="host-b", **shared)
    assert first.registration is not None and second.registration is not None
    assert first.registration.resource_id == second.registration.resource_id  # one resource, reused
    reg = first.registration
    photos = ["obama.jpg", "biden.jpg", "obama2.jpg", "obama_small.jpg", "two_people.jpg", "obama-480p.jpg"]
    items = [operator.import_file(data_dir / "face_recognition/examples" / p) for p in photos
             if (data_dir / "face_recognition/examples" / p).is_file()]
    assert len(items) >= 4

    jobs = [operator.analyze(item, reg.resource_id, reg.callback_id) for item in items for _ in range(2)]
    ended = [operator.wait_job(job) for job in jobs]

    assert [j["status"] for j in ended] == ["FINISHED"] * len(jobs)
    assert first.poller is not None and second.poller is not None
    ran_a, ran_b = first.poller.finished, second.poller.finished
    assert sorted(ran_a + ran_b) == sorted(jobs)  # each job ran exactly once, by one instance
    assert {job_data(j)["claimedBy"] for j in ended} <= {"host-a", "host-b"}


def test_the_face_tracks_json_becomes_one_shape_of_the_item(start_service, operator: Operator,
                                                           data_dir: Path) -> None:
    app = start_service()
    reg = app.registration
    assert reg is not None
    clip = operator.import_file(data_dir / HAMILTON)

    first_id = operator.analyze(clip, reg.resource_id, reg.callback_id, KeyframeInterval="1")
    first = operator.wait_job(first_id)
    assert first["status"] == "FINISHED", first
    [shape] = tracks_shapes(operator, clip)
    assert tracks_uri(shape).endswith(f"/{first_id}/tracks/face-tracks.json")
    assert shape["mimeType"] == "application/json"
    assert {None} == {e for e, _ in emotion_values(operator, clip)}  # cognitive_service_Emotion defaults to none

    # Re-analysis replaces the shape; the original stays.
    again_id = operator.analyze(clip, reg.resource_id, reg.callback_id, KeyframeInterval="1")
    again = operator.wait_job(again_id)
    assert again["status"] == "FINISHED", again
    [shape] = tracks_shapes(operator, clip)
    assert tracks_uri(shape).endswith(f"/{again_id}/tracks/face-tracks.json")
    assert any("original" in (s.get("tag") or []) for s in operator.shapes(clip))


def test_emotion_per_face_puts_an_emotion_on_each_face_timespan(start_service, operator: Operator,
                                                                data_dir: Path) -> None:
    app = start_service()
    reg = app.registration
    assert reg is not None
    clip = operator.import_file(data_dir / HAMILTON)
    job = operator.wait_job(operator.analyze(clip, reg.resource_id, reg.callback_id, KeyframeInterval="1",
                                             Emotion="per-face"))
    assert job["status"] == "FINISHED", job
    check_emotions(operator, clip)


def test_an_animation_model_job_writes_character_timespans(start_service, operator: Operator,
                                                            data_dir: Path) -> None:
    app = start_service(characters__cascade=str(data_dir / "lbpcascade_animeface/lbpcascade_animeface.xml"))
    reg = app.registration
    assert reg is not None
    clip = operator.import_file(data_dir / "opencv_samples/opencv/samples/data/Megamind.avi")

    job = operator.wait_job(operator.analyze(clip, reg.resource_id, reg.callback_id, AnimationModel="Megamind"))

    assert job["status"] == "FINISHED", job
    groups = [group for span in operator.metadata(clip).get("timespan", []) or []
              for group in span.get("group", []) or [] if str(group.get("name", "")).startswith("adu_face_")]
    assert groups and {g["name"] for g in groups} == {"adu_face_VidiplugCharacterAnalyzer"}
    assert set(field_values(operator.metadata(clip), "adu_analysisType")) == {"character"}
    assert set(field_values(operator.metadata(clip), "adu_av_series")) == {"Megamind"}
