"""Seed 002's workflow in direct mode: only VidiCore's documented API, against a mock with the bridge off.

mock_vidicore runs without ``--bridge``, so it answers 404 to the invented job calls and
ignores a configuration body: any undocumented call the service made would fail these tests.
Operators ask for work as direct mode documents it: an item added to FaceAnalysisQueue, a
request field on the training collection, ``vcs_face_value`` and ``vidiplug_mergeInto`` on
unknown-face items; the outcome shows in the ``vidiplug_*`` status fields.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_vidicore.launch import launch_mock
from operator_api import Operator, field_values
from support import wait_for
from tracks_support import check_emotions, emotion_values, read_tracks, tracks_shapes, tracks_uri
from vidiplug.render.timecode import parse_timecode

pytestmark = pytest.mark.timeout(600)
HAMILTON = "face_recognition/examples/short_hamilton_clip.mp4"
CROWD = "facenet_pytorch/examples/video.mp4"  # pedestrians, nobody named (MANIFEST)
TWO_PEOPLE = "plastic_bubble/videos/08.mp4"  # two people (08.mp4.truth.csv)
LIN_PHOTO = "face_recognition/examples/lin-manuel-miranda.png"
LIN_START_S, LIN_END_S = 3.5, 8.0  # MANIFEST: Lin-Manuel Miranda medium shot
INTERVAL_S = 1.0
QUEUE = "FaceAnalysisQueue"
UNKNOWN_COLLECTION = "FoundByFaceAnalysis"
DIRECT = {"vidicore__mode": "direct", "service__unknowns_watch_interval_s": 0.2}
HOSTILE = "\"); api.path(\"item\").delete(); // ]]></script> <b>&amp;\u2028x"


@pytest.fixture(scope="module")
def mock_url(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Iterator[str]:
    """mock_vidicore as strict as VidiCore: no --bridge, so the invented endpoints answer 404."""
    folder = tmp_path_factory.mktemp("mock")
    running = launch_mock(folder, "--s3-endpoint", s3_endpoint, "--poll-interval-s", "0.05",
                          "--script-time-limit-s", "30", "--data-dir", str(folder / "data"))
    try:
        yield running.url
    finally:
        assert running.stop() == 0, running.log_path.read_text()


def generic(operator: Operator, path: str) -> dict[str, list[str]]:
    """The generic fields of ``item/ID`` or ``collection/ID`` by name."""
    doc = operator.call("GET", f"{path}/metadata") or {}
    entity = (doc.get("item") or doc.get("collection") or [{}])[0]
    fields: dict[str, list[str]] = {}
    for span in (entity.get("metadata") or {}).get("timespan", []) or []:
        if span.get("start") != "-INF":
            continue
        for entry in span.get("field", []) or []:
            fields.setdefault(entry["name"], []).extend(str(v.get("value")) for v in entry.get("value", []) or [])
    return fields


def put_fields(operator: Operator, path: str, *pairs: tuple[str, str | list[str]]) -> None:
    """Set generic fields of ``item/ID`` or ``collection/ID``; a list sets several values."""
    body = {"timespan": [{"start": "-INF", "end": "+INF", "field": [
        {"name": name, "value": [{"value": v} for v in (value if isinstance(value, list) else [value])]}
        for name, value in pairs]}]}
    operator.call("PUT", f"{path}/metadata", json=body)


def status_of(operator: Operator, path: str) -> tuple[str, str]:
    fields = generic(operator, path)
    return (fields.get("vidiplug_status") or [""])[0], (fields.get("vidiplug_message") or [""])[0]


def request_analysis(operator: Operator, item_id: str, *parameters: str) -> None:
    """Ask for ``item_id`` to be analysed: parameters as metadata, then the item into the queue."""
    queue = operator.collection_id(QUEUE)
    assert queue is not None
    put_fields(operator, f"item/{item_id}", ("vidiplug_jobParameter", list(parameters) or [""]),
               ("vidiplug_status", "QUEUED"))
    operator.add_to_collection(queue, item_id)


def analysed(operator: Operator, item_id: str) -> tuple[str, str]:
    """Wait until ``item_id`` has left the queue with an outcome; (status, message)."""
    queue = operator.collection_id(QUEUE)
    assert queue is not None
    return wait_for(lambda: (status_of(operator, f"item/{item_id}")
                             if item_id not in operator.collection_items(queue)
                             and status_of(operator, f"item/{item_id}")[0] in ("FINISHED", "FAILED") else None),
                    240, f"item {item_id} to be analysed")


def analyse(operator: Operator, item_id: str, *parameters: str) -> tuple[str, str]:
    """Ask for an analysis and wait for its outcome."""
    request_analysis(operator, item_id, *parameters)
    return analysed(operator, item_id)


def faces(operator: Operator, item_id: str) -> list[dict[str, Any]]:
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
    collection = operator.collection_id(UNKNOWN_COLLECTION)
    found = {}
    for item in operator.collection_items(collection) if collection else []:
        ids = field_values(operator.metadata(item), "vcs_face_externalId")
        if ids:
            found[ids[0]] = item
    return found


def test_the_invented_endpoints_are_off_in_this_mock(operator: Operator) -> None:
    operator.call("PUT", "job/VX-1/claim", expect=404, params={"resourceId": "VX-1", "instance": "x"})


def test_direct_mode_train_analyze_rename_merge_delete_reanalyze(start_service, operator: Operator,
                                                                   data_dir: Path) -> None:
    app = start_service(**DIRECT)
    reg = app.registration
    assert reg is not None and reg.mode == "direct" and reg.resource_id is None and reg.callback_id is None
    assert operator.call("GET", "resource/vidinet").get("resource") in (None, [])  # nothing registered

    # Registration through the documented definition endpoints.
    assert operator.call("GET", "metadata-field/vcs_face_externalId")["type"] == "string"
    assert operator.call("GET", "metadata-field/vidiplug_status")["type"] == "string"
    operator.call("GET", "shape-tag/vcs_face_thumbnail")
    training = operator.collection_id("FaceTrainingDataset")
    assert training == reg.training_collection_id
    assert generic(operator, f"collection/{training}")["vcs_face_isTrainingCollection"] == ["true"]
    assert operator.collection_id(QUEUE) == reg.queue_collection_id

    # Training, asked for with the request field on the training collection.
    photo = operator.import_file(data_dir / LIN_PHOTO, ("vcs_face_isTrainingMaterial", "true"),
                                 ("vcs_face_value", "Lin-Manuel Miranda"))
    operator.add_to_collection(training, photo)
    put_fields(operator, f"collection/{training}", ("vidiplug_trainingRequested", "true"),
               ("vidiplug_jobParameter", "cognitive_service_QualitySetting=Mid"))
    wait_for(lambda: generic(operator, f"collection/{training}").get("vidiplug_trainingRequested") == ["false"],
             240, "training to run")
    assert status_of(operator, f"collection/{training}")[0] == "FINISHED"
    assert field_values(operator.metadata(photo), "vcs_face_method") == ["TRAINED"]

    # Analysis, asked for by adding the item to the queue, with a job parameter.
    clip = operator.import_file(data_dir / HAMILTON)
    assert analyse(operator, clip, f"cognitive_service_KeyframeInterval={INTERVAL_S}")[0] == "FINISHED"
    lin = [f for f in faces(operator, clip) if f["name"] == "Lin-Manuel Miranda"]
    main = max(lin, key=lambda f: f["end"] - f["start"])
    assert abs(main["start"] - LIN_START_S) <= INTERVAL_S
    assert abs(main["end"] - LIN_END_S) <= INTERVAL_S + 0.1
    run = generic(operator, f"item/{clip}")["vidiplug_runId"][0]
    assert run.startswith(f"analyze-{clip}-")
    health = app.health()  # no status endpoint here, so no callback probe: only the parts that apply
    assert health.mode == "direct" and health.registered and health.resource_id is None
    assert health.last_poll_age_s is not None and health.identity_store.reachable

    # Strangers become unknown items, with their face crop imported under the shape tag.
    crowd = operator.import_file(data_dir / CROWD)
    assert analyse(operator, crowd)[0] == "FINISHED"
    shown = sorted({f["fingerprint"] for f in faces(operator, crowd) if f["name"] == "Unknown"})
    unknowns = unknown_items(operator)
    assert len(shown) >= 2 and set(shown) <= set(unknowns)
    named_fp, deleted_fp = shown[:2]
    assert any("vcs_face_thumbnail" in (s.get("tag") or []) for s in operator.shapes(unknowns[named_fp]))

    # Rename (a hostile name, shown exactly): the timeline follows.
    operator.set_fields(unknowns[named_fp], ("vcs_face_value", HOSTILE))
    wait_for(lambda: any(f["fingerprint"] == named_fp and f["name"] == HOSTILE for f in faces(operator, crowd)),
             120, "the timeline to show the new name")
    # The status is written once the timelines are: wait for it too.
    wait_for(lambda: status_of(operator, f"item/{unknowns[named_fp]}")[0] == "FINISHED", 60, "the relabel's status")

    # Delete another; re-analysis neither re-imports nor shows it.
    operator.delete_item(unknowns[deleted_fp])
    wait_for(lambda: app.store.get(deleted_fp).suppressed or None, 60, "the deleted fingerprint to be suppressed")
    assert analyse(operator, crowd)[0] == "FINISHED"
    assert operator.items_with("vcs_face_externalId", deleted_fp) == []
    after = faces(operator, crowd)
    assert deleted_fp not in {f["fingerprint"] for f in after}
    assert any(f["fingerprint"] == named_fp and f["name"] == HOSTILE for f in after)

    # Merge: two more strangers; one is merged into the other, and its faces show the other.
    pair = operator.import_file(data_dir / TWO_PEOPLE)
    assert analyse(operator, pair)[0] == "FINISHED"
    two = sorted({f["fingerprint"] for f in faces(operator, pair) if f["name"] == "Unknown"} - set(shown))
    assert len(two) >= 2
    unknowns = unknown_items(operator)
    kept_fp, merged_fp = two[:2]
    put_fields(operator, f"item/{unknowns[merged_fp]}", ("vidiplug_mergeInto", unknowns[kept_fp]))
    wait_for(lambda: not any(f["fingerprint"] == merged_fp for f in faces(operator, pair)), 120,
             "the merged fingerprint to leave the timeline")
    wait_for(lambda: status_of(operator, f"item/{unknowns[merged_fp]}")[0] == "FINISHED", 60, "the merge's status")
    assert generic(operator, f"item/{unknowns[merged_fp]}").get("vidiplug_mergeInto") in ([""], None)
    assert any(f["fingerprint"] == kept_fp for f in faces(operator, pair))


def test_a_bad_request_fails_on_the_item_naming_the_parameter(start_service, operator: Operator,
                                                               data_dir: Path) -> None:
    start_service(**DIRECT)
    clip = operator.import_file(data_dir / HAMILTON)

    status, message = analyse(operator, clip, "itemId=VX-1")

    assert status == "FAILED"
    assert "vidiplug_jobParameter" in message and "itemId=VX-1" in message

    status, message = analyse(operator, clip, "cognitive_service_ConfidenceThreshold=7")
    assert status == "FAILED" and "ConfidenceThreshold" in message


def test_two_direct_instances_run_each_request_once(start_service, operator: Operator, data_dir: Path,
                                                    tmp_path: Path) -> None:
    store = tmp_path / f"shared-{uuid.uuid4().hex[:6]}.sqlite"
    first = start_service(instance="host-a", store=store, **DIRECT)
    second = start_service(instance="host-b", store=store, **DIRECT)
    clips = [operator.import_file(data_dir / HAMILTON) for _ in range(3)]

    for clip in clips:
        request_analysis(operator, clip, "cognitive_service_KeyframeInterval=2")
    for clip in clips:
        assert analysed(operator, clip)[0] == "FINISHED"

    ran = [key for app in (first, second) for key in app.poller.finished if key.startswith("analyze:")]
    assert sorted(ran) == sorted(f"analyze:{clip}" for clip in clips)


def test_autotrain_asks_for_training_through_the_request_field(start_service, operator: Operator,
                                                                data_dir: Path) -> None:
    app = start_service(service__autotrain=True, service__autotrain_debounce_s=0.2, **DIRECT)
    assert app.registration is not None
    training = app.registration.training_collection_id
    photo = operator.import_file(data_dir / LIN_PHOTO, ("vcs_face_isTrainingMaterial", "true"),
                                 ("vcs_face_value", "Lin-Manuel Miranda"))

    operator.add_to_collection(training, photo)

    wait_for(lambda: field_values(operator.metadata(photo), "vcs_face_method") == ["TRAINED"], 240,
             "autotrain to train the new photo")
    wait_for(lambda: generic(operator, f"collection/{training}").get("vidiplug_trainingRequested") == ["false"],
             60, "the request field to be cleared")
    assert status_of(operator, f"collection/{training}")[0] == "FINISHED"
    assert "vidiplugAutotrain=true" in generic(operator, f"collection/{training}")["vidiplug_jobParameter"]


def test_direct_mode_attaches_the_face_tracks_json_as_a_shape(start_service, operator: Operator, data_dir: Path,
                                                              s3: Any) -> None:
    start_service(**DIRECT)
    clip = operator.import_file(data_dir / HAMILTON)

    assert analyse(operator, clip, "cognitive_service_KeyframeInterval=1")[0] == "FINISHED"

    [shape] = tracks_shapes(operator, clip)
    run_id = generic(operator, f"item/{clip}")["vidiplug_runId"][0]
    uri = tracks_uri(shape)
    assert uri.endswith(f"/{run_id}/tracks/face-tracks.json")
    document = read_tracks(s3, uri)  # direct mode keeps the bundle: the document as attached
    assert (document["width"], document["height"]) == (640, 360)
    ids = {e["id"] for fragment in document["fragments"] for event in fragment.get("events", []) for e in event}
    assert ids and sum("events" in f for f in document["fragments"]) < len(document["fragments"])
    assert {None} == {e for e, _ in emotion_values(operator, clip)}  # cognitive_service_Emotion defaults to none
    status, message = analyse(operator, clip, "cognitive_service_Emotion=sometimes")
    assert status == "FAILED" and "cognitive_service_Emotion" in message and "per-face" in message


def test_direct_mode_emotion_per_face(start_service, operator: Operator, data_dir: Path) -> None:
    start_service(**DIRECT)
    clip = operator.import_file(data_dir / HAMILTON)
    status, message = analyse(operator, clip, "cognitive_service_KeyframeInterval=1",
                              "cognitive_service_Emotion=per-face")
    assert status == "FINISHED", message
    check_emotions(operator, clip)
