"""The callback scripts really run: bundles uploaded to moto S3, executed by mock_vidicore's executor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from callback_harness import (
    CallbackLocation,
    VidiCore,
    analysis,
    job_data,
    person,
    shape_values,
    values,
)
from support import HOSTILE_NAMES, script_results
from vidiplug.callbacks import (
    ANALYZE_METADATA_FILE,
    DELETED_FINGERPRINTS_KEY,
    MISSING_ITEMS_KEY,
    build_analyze_bundle,
    build_train_bundle,
)
from vidiplug.pipeline.results import AnalysisResult
from vidiplug.render.metadata_xml import ParsedSpan, parse_metadata_document, render_metadata_xml

pytestmark = pytest.mark.timeout(120)
TRAINED_ACTIVE = {"vcs_face_method": "TRAINED", "vcs_face_status": "ACTIVE"}


def analyze(vidicore: VidiCore, callback: CallbackLocation, item_id: str, result: AnalysisResult, collection: str,
            previously_imported: tuple[str, ...] = (), analyzer_id: str = "VidiplugFaceAnalyzer") -> dict[str, Any]:
    """One analyze job end to end: claim, bundle, upload, hand back; the ended job."""
    job_id = vidicore.claimed(f"item/{item_id}/analyze", callback)
    files = build_analyze_bundle(job_id=job_id, item_id=item_id, result=result, callback_base_uri=callback.base_uri,
                                 unknown_collection=collection, previously_imported=previously_imported,
                                 analyzer_id=analyzer_id)
    return vidicore.hand_back(job_id, callback, files)


def face_values(vidicore: VidiCore, item_id: str) -> list[ParsedSpan]:
    """The item's face values, read as XML and parsed like any VidiCore answer, sorted."""
    response = vidicore.session.get(f"{vidicore.base_url}/API/item/{item_id}/metadata",
                                    headers={"Accept": "application/xml"}, timeout=30)
    response.raise_for_status()
    return sorted(parse_metadata_document(response.content), key=lambda s: (s.start_s, s.value_id))


def meaning(spans: list[ParsedSpan]) -> list[tuple[object, ...]]:
    return sorted((s.start, s.end, s.analyzer_id, s.analysis_type, s.created, s.value_id, s.value, s.confidence, s.box)
                  for s in spans)


def test_timespans_on_the_item_mean_exactly_what_render_writes(
        vidicore: VidiCore, callback: CallbackLocation, clip_item: str, collection_name: str) -> None:
    people = [person(name, [(0.5 * i, 0.5 * i + 0.4)], confidence=0.5 + i / 100)
              for i, name in enumerate(HOSTILE_NAMES)]
    result = analysis(*people, person(None, [(8.0, 9.5)], is_new=True))

    job = analyze(vidicore, callback, clip_item, result, collection_name)

    assert job["status"] == "FINISHED", job_data(job).get("failureReason")
    assert meaning(face_values(vidicore, clip_item)) == meaning(parse_metadata_document(render_metadata_xml(result)))


def test_hostile_names_come_back_unchanged(
        vidicore: VidiCore, callback: CallbackLocation, clip_item: str, collection_name: str) -> None:
    people = [person(name, [(0.5 * i, 0.5 * i + 0.4)]) for i, name in enumerate(HOSTILE_NAMES)]

    analyze(vidicore, callback, clip_item, analysis(*people), collection_name)

    metadata = vidicore.metadata(clip_item)
    by_fingerprint = dict(zip(values(metadata, "adu_av_valueId"), values(metadata, "adu_av_value")))
    assert by_fingerprint == {p.fingerprint: p.name for p in people}
    assert vidicore.call("GET", f"item/{clip_item}")["id"] == clip_item


def test_new_unknowns_become_indexed_items_in_the_collection_and_the_files_are_deleted(
        vidicore: VidiCore, callback: CallbackLocation, clip_item: str, collection_name: str, face_jpeg: bytes) -> None:
    with_crop = person(None, [(1.0, 2.0)], is_new=True, thumbnail=face_jpeg)
    without_crop = person(None, [(3.0, 4.0)], is_new=True)

    job = analyze(vidicore, callback, clip_item, analysis(with_crop, without_crop), collection_name)

    collection = vidicore.collection_named(collection_name)
    assert job["status"] == "FINISHED", job_data(job).get("failureReason")
    assert collection is not None and len(collection["content"]) == 2
    [crop_item] = vidicore.items_with("vcs_face_externalId", with_crop.fingerprint)
    [placeholder] = vidicore.items_with("vcs_face_externalId", without_crop.fingerprint)
    assert {c["id"] for c in collection["content"]} == {crop_item, placeholder}
    for item_id, fingerprint in ((crop_item, with_crop.fingerprint), (placeholder, without_crop.fingerprint)):
        metadata = vidicore.metadata(item_id)
        assert values(metadata, "vcs_face_method") == ["INDEXED"]
        assert values(metadata, "title") == [f"Unknown face {fingerprint[:8]}"]
    [shape] = vidicore.shapes(crop_item)
    assert shape["tag"] == ["vcs_face_thumbnail"]
    assert shape["containerComponent"]["file"][0]["uri"] == [
        f"{callback.base_uri}{job['jobId']}/faces/{with_crop.fingerprint}.jpg"]
    assert shape_values(shape) == {"vcs_face_method": "INDEXED", "vcs_face_status": "ACTIVE"}
    assert vidicore.shapes(placeholder) == []
    assert vidicore.keys(callback) == []


def test_rerunning_the_same_result_duplicates_neither_items_nor_timespans(
        vidicore: VidiCore, callback: CallbackLocation, clip_item: str, collection_name: str, face_jpeg: bytes) -> None:
    unknown = person(None, [(1.0, 2.0), (5.0, 6.0)], is_new=True, thumbnail=face_jpeg)
    result = analysis(person("Ann Lee", [(1.0, 2.0)]), unknown)
    analyze(vidicore, callback, clip_item, result, collection_name)
    first = face_values(vidicore, clip_item)

    job = analyze(vidicore, callback, clip_item, result, collection_name)

    collection = vidicore.collection_named(collection_name)
    assert job["status"] == "FINISHED", job_data(job).get("failureReason")
    assert len(vidicore.items_with("vcs_face_externalId", unknown.fingerprint)) == 1
    assert collection is not None and len(collection["content"]) == 1
    assert len(first) == 3
    assert meaning(face_values(vidicore, clip_item)) == meaning(first)


def test_reanalysis_replaces_the_earlier_timespans(
        vidicore: VidiCore, callback: CallbackLocation, clip_item: str, collection_name: str) -> None:
    ann = person("Ann Lee", [(1.0, 2.0), (4.0, 5.0)])
    analyze(vidicore, callback, clip_item, analysis(ann), collection_name)
    later = analysis(person("Ann Lee", [(7.0, 8.0)], fingerprint=ann.fingerprint))

    analyze(vidicore, callback, clip_item, later, collection_name)

    assert meaning(face_values(vidicore, clip_item)) == meaning(parse_metadata_document(render_metadata_xml(later)))


def test_an_unknown_whose_item_was_deleted_is_not_reimported_and_its_timespans_go(
        vidicore: VidiCore, callback: CallbackLocation, clip_item: str, collection_name: str, face_jpeg: bytes) -> None:
    unknown = person(None, [(1.0, 2.0)], is_new=True, thumbnail=face_jpeg)
    ann = person("Ann Lee", [(3.0, 4.0)])
    analyze(vidicore, callback, clip_item, analysis(ann, unknown), collection_name)
    [unknown_item] = vidicore.items_with("vcs_face_externalId", unknown.fingerprint)
    vidicore.call("DELETE", f"item/{unknown_item}")
    again = person(None, [(1.0, 2.0), (6.0, 7.0)], fingerprint=unknown.fingerprint)

    job = analyze(vidicore, callback, clip_item, analysis(ann, again), collection_name,
                  previously_imported=(unknown.fingerprint,))

    assert job["status"] == "FINISHED", job_data(job).get("failureReason")
    assert script_results(job)[DELETED_FINGERPRINTS_KEY] == unknown.fingerprint
    assert vidicore.items_with("vcs_face_externalId", unknown.fingerprint) == []
    assert [s.value_id for s in face_values(vidicore, clip_item)] == [ann.fingerprint]


def test_previously_imported_unknowns_that_still_have_items_keep_their_timespans(
        vidicore: VidiCore, callback: CallbackLocation, clip_item: str, collection_name: str, face_jpeg: bytes) -> None:
    unknown = person(None, [(1.0, 2.0)], is_new=True, thumbnail=face_jpeg)
    analyze(vidicore, callback, clip_item, analysis(unknown), collection_name)
    again = person(None, [(6.0, 7.0)], fingerprint=unknown.fingerprint)

    job = analyze(vidicore, callback, clip_item, analysis(again), collection_name,
                  previously_imported=(unknown.fingerprint,))

    assert script_results(job)[DELETED_FINGERPRINTS_KEY] == ""
    assert [(s.start, s.value_id) for s in face_values(vidicore, clip_item)] == [("180@NTSC", unknown.fingerprint)]


def test_the_metadata_script_finds_deleted_fingerprints_itself_without_the_job_data(
        vidicore: VidiCore, callback: CallbackLocation, clip_item: str, collection_name: str) -> None:
    gone = person(None, [(1.0, 2.0)])
    ann = person("Ann Lee", [(3.0, 4.0)])
    job_id = vidicore.claimed(f"item/{clip_item}/analyze", callback)
    files = build_analyze_bundle(job_id=job_id, item_id=clip_item, result=analysis(ann, gone),
                                 callback_base_uri=callback.base_uri, unknown_collection=collection_name,
                                 previously_imported=[gone.fingerprint])

    job = vidicore.hand_back(job_id, callback, [f for f in files if f.name == ANALYZE_METADATA_FILE])

    assert job["status"] == "FINISHED", job_data(job).get("failureReason")
    assert [s.value_id for s in face_values(vidicore, clip_item)] == [ann.fingerprint]


def test_a_failing_call_fails_the_job_naming_the_script_and_what_failed(
        vidicore: VidiCore, callback: CallbackLocation, clip_item: str, collection_name: str) -> None:
    result = analysis(person("Ann Lee", [(1.0, 2.0)]))

    job = analyze(vidicore, callback, clip_item, result, collection_name, analyzer_id="UndeclaredAnalyzer")

    reason = job_data(job)["failureReason"]
    assert job["status"] == "FAILED_TOTAL"
    assert reason.startswith(f"{ANALYZE_METADATA_FILE}: ")
    assert f"writing 1 adu_face_UndeclaredAnalyzer timespans on item {clip_item} failed: HTTP 400" in reason
    assert len(vidicore.keys(callback)) == 4  # the three scripts and the tracks JSON stay


def training_items(vidicore: VidiCore, face_path: Path, count: int) -> list[str]:
    return [vidicore.import_file(face_path, ("vcs_face_isTrainingMaterial", "true"), ("vcs_face_value", "Barack Obama"))
            for _ in range(count)]


def test_training_marks_accepted_items_trained_and_rejected_items_with_their_reason(
        vidicore: VidiCore, callback: CallbackLocation, data_dir: Path) -> None:
    good, bad, deleted = training_items(vidicore, data_dir / "face_recognition/examples/obama_small.jpg", 3)
    collection = vidicore.call("POST", "collection", params={"name": "training"})["id"]
    for item in (good, bad, deleted):
        vidicore.call("PUT", f"collection/{collection}/{item}")
    job_id = vidicore.claimed(f"collection/{collection}/train", callback)
    files = build_train_bundle(job_id=job_id, accepted=[good, deleted], rejected={bad: 'no face: "<b>&]]>'})
    vidicore.call("DELETE", f"item/{deleted}")

    job = vidicore.hand_back(job_id, callback, files)

    assert job["status"] == "FINISHED", job_data(job).get("failureReason")
    assert script_results(job)[MISSING_ITEMS_KEY] == deleted
    assert values(vidicore.metadata(good), "vcs_face_method") == ["TRAINED"]
    assert [shape_values(s) for s in vidicore.shapes(good)] == [TRAINED_ACTIVE]
    assert values(vidicore.metadata(bad), "adu_av_description") == ['no face: "<b>&]]>']
    assert values(vidicore.metadata(bad), "vcs_face_method") == []
    assert [shape_values(s) for s in vidicore.shapes(bad)] == [{"vcs_face_status": "REJECTED"}]


def test_accepting_a_once_rejected_item_clears_its_reason(
        vidicore: VidiCore, callback: CallbackLocation, data_dir: Path) -> None:
    [item] = training_items(vidicore, data_dir / "face_recognition/examples/obama_small.jpg", 1)
    collection = vidicore.call("POST", "collection", params={"name": "training"})["id"]
    vidicore.call("PUT", f"collection/{collection}/{item}")
    first = vidicore.claimed(f"collection/{collection}/train", callback)
    vidicore.hand_back(first, callback, build_train_bundle(job_id=first, accepted=[], rejected={item: "too blurry"}))
    second = vidicore.claimed(f"collection/{collection}/train", callback)

    vidicore.hand_back(second, callback, build_train_bundle(job_id=second, accepted=[item], rejected={}))

    assert values(vidicore.metadata(item), "adu_av_description") == []
    assert [shape_values(s) for s in vidicore.shapes(item)] == [TRAINED_ACTIVE]

