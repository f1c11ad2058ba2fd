"""relabel.js really runs: a relabel bundle handed back for a custom job, executed by mock_vidicore's executor."""

from __future__ import annotations

from typing import Any

import pytest

from callback_harness import CallbackLocation, VidiCore, analysis, job_data, person, values
from support import script_results
from vidiplug.callbacks import RELABELLED_ITEMS_KEY, build_analyze_bundle, build_relabel_bundle, load_script
from vidiplug.callbacks.scripts import ScriptName
from vidiplug.pipeline.results import AnalysisResult

pytestmark = pytest.mark.timeout(120)
OURS = "adu_face_VidiplugFaceAnalyzer"


def analyze(vidicore: VidiCore, callback: CallbackLocation, item_id: str, result: AnalysisResult, collection: str,
            analyzer_id: str = "VidiplugFaceAnalyzer") -> None:
    """One analyze job end to end (claim, bundle, upload, hand back); it must finish."""
    job_id = vidicore.claimed(f"item/{item_id}/analyze", callback)
    files = build_analyze_bundle(job_id=job_id, item_id=item_id, result=result, callback_base_uri=callback.base_uri,
                                 unknown_collection=collection, previously_imported=(), analyzer_id=analyzer_id)
    job = vidicore.hand_back(job_id, callback, files)
    assert job["status"] == "FINISHED", job_data(job).get("failureReason")


def relabel(vidicore: VidiCore, callback: CallbackLocation, *, fingerprint: str | None, value_id: str | None,
            value: str, item_id: str, item_fields: dict[str, str]) -> dict[str, Any]:
    """A VCS_TRAINING_RELABEL_ITEM job claimed as the service does, its relabel bundle handed back; the ended job."""
    job = vidicore.call("POST", "job", params=[
        ("type", "VCS_TRAINING_RELABEL_ITEM"), ("jobmetadata", f"itemId={item_id}"),  # VidiCore takes no callbackId
        ("jobmetadata", "newLabel=x"), ("jobmetadata", "modelType=face")])
    job_id = str(job["jobId"])
    vidicore.call("PUT", f"job/{job_id}/claim", params={"resourceId": vidicore.resource_id,
                                                         "instance": vidicore.instance})
    files = build_relabel_bundle(job_id=job_id, fingerprint=fingerprint, value_id=value_id, value=value,
                                 item_id=item_id, item_fields=item_fields)
    return vidicore.hand_back(job_id, callback, files)


def faces(vidicore: VidiCore, item_id: str) -> list[dict[str, Any]]:
    """Every face group of the item: timespan, group name and uuids, and its analysed-value fields."""
    found = []
    for span in vidicore.metadata(item_id).get("timespan", []):
        for group in span.get("group", []):
            for value in group.get("group", []):
                fields = {f["name"]: [v["value"] for v in f.get("value", [])] for f in value.get("field", [])}
                found.append({"span": (span["start"], span["end"]), "group": (group["name"], group["uuid"]),
                              "value_group": value["uuid"], "fields": fields, "box": value.get("group")})
    return sorted(found, key=lambda f: (f["span"], f["group"]))


def without_names(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``entries`` with their adu_av_valueId and adu_av_value fields taken out."""
    return [{**e, "fields": {k: v for k, v in e["fields"].items() if k not in ("adu_av_valueId", "adu_av_value")}}
            for e in entries]


def test_faces_of_the_fingerprint_show_the_new_identity_in_place_and_nothing_else_changes(
        vidicore: VidiCore, callback: CallbackLocation, clip_item: str, collection_name: str) -> None:
    stranger = person(None, [(1.0, 2.0), (5.0, 6.5)])
    ann = person("Ann Lee", [(1.0, 2.0)])
    analyze(vidicore, callback, clip_item, analysis(stranger, ann), collection_name)
    analyze(vidicore, callback, clip_item, analysis(stranger), collection_name, analyzer_id="DeepVAKeyframeAnalyzer")
    before = faces(vidicore, clip_item)

    job = relabel(vidicore, callback, fingerprint=stranger.fingerprint, value_id="person-7", value="Pat Doe",
                  item_id=clip_item, item_fields={})

    after = faces(vidicore, clip_item)
    assert job["status"] == "FINISHED", job_data(job).get("failureReason")
    assert script_results(job)[RELABELLED_ITEMS_KEY] == clip_item
    assert without_names(after) == without_names(before)  # same groups, same uuids, confidences, boxes
    changed = [f for f in after if f["fields"]["adu_av_valueId"] == ["person-7"]]
    assert len(changed) == 2 and {f["group"][0] for f in changed} == {OURS}
    assert all(f["fields"]["adu_av_value"] == ["Pat Doe"] for f in changed)
    earlier = {f["value_group"]: f for f in before}
    assert [f for f in after if f not in changed] == [earlier[f["value_group"]] for f in after if f not in changed]


def test_every_item_showing_the_fingerprint_follows_and_the_relabelled_item_gets_its_fields(
        vidicore: VidiCore, callback: CallbackLocation, clip_item: str, collection_name: str) -> None:
    stranger = person(None, [(3.0, 4.0)])
    other_item = str(vidicore.call("POST", "import/placeholder")["id"])
    unknown_item = str(vidicore.call("POST", "import/placeholder")["id"])
    for item in (clip_item, other_item):
        analyze(vidicore, callback, item, analysis(stranger), collection_name)

    job = relabel(vidicore, callback, fingerprint=stranger.fingerprint, value_id=stranger.fingerprint,
                  value="Pat Doe", item_id=unknown_item, item_fields={"vcs_face_value": "Pat Doe",
                                                                      "vcs_face_method": "MERGED"})

    assert job["status"] == "FINISHED", job_data(job).get("failureReason")
    assert sorted(script_results(job)[RELABELLED_ITEMS_KEY].split(",")) == sorted([clip_item, other_item])
    for item in (clip_item, other_item):
        assert values(vidicore.metadata(item), "adu_av_value") == ["Pat Doe"]
    metadata = vidicore.metadata(unknown_item)
    assert (values(metadata, "vcs_face_value"), values(metadata, "vcs_face_method")) == (["Pat Doe"], ["MERGED"])


def test_hostile_names_are_written_unchanged(vidicore: VidiCore, callback: CallbackLocation, clip_item: str,
                                             collection_name: str, hostile_name: str) -> None:
    stranger = person(None, [(3.0, 4.0)])
    analyze(vidicore, callback, clip_item, analysis(stranger), collection_name)
    items_before = vidicore.call("PUT", "item", json={})["hits"]

    job = relabel(vidicore, callback, fingerprint=stranger.fingerprint, value_id=stranger.fingerprint,
                  value=hostile_name, item_id=clip_item, item_fields={"vcs_face_value": hostile_name})

    metadata = vidicore.metadata(clip_item)
    assert job["status"] == "FINISHED", job_data(job).get("failureReason")
    assert values(metadata, "adu_av_value") == [hostile_name]
    assert values(metadata, "vcs_face_value") == [hostile_name]
    assert vidicore.call("PUT", "item", json={})["hits"] == items_before


def test_a_relabelled_item_deleted_meanwhile_is_skipped_and_the_timelines_still_follow(
        vidicore: VidiCore, callback: CallbackLocation, clip_item: str, collection_name: str) -> None:
    stranger = person(None, [(3.0, 4.0)])
    analyze(vidicore, callback, clip_item, analysis(stranger), collection_name)
    gone = str(vidicore.call("POST", "import/placeholder")["id"])
    vidicore.call("DELETE", f"item/{gone}", headers={"Accept": "text/plain"})

    job = relabel(vidicore, callback, fingerprint=stranger.fingerprint, value_id=stranger.fingerprint,
                  value="Pat Doe", item_id=gone, item_fields={"vcs_face_value": "Pat Doe"})

    assert job["status"] == "FINISHED", job_data(job).get("failureReason")
    assert values(vidicore.metadata(clip_item), "adu_av_value") == ["Pat Doe"]


def test_without_a_fingerprint_only_the_item_fields_change(
        vidicore: VidiCore, callback: CallbackLocation, clip_item: str, collection_name: str) -> None:
    stranger = person(None, [(3.0, 4.0)])
    analyze(vidicore, callback, clip_item, analysis(stranger), collection_name)
    training_item = str(vidicore.call("POST", "import/placeholder")["id"])

    job = relabel(vidicore, callback, fingerprint=None, value_id=None, value="Pat Doe", item_id=training_item,
                  item_fields={"vcs_face_value": "Pat Doe"})

    assert job["status"] == "FINISHED", job_data(job).get("failureReason")
    assert script_results(job)[RELABELLED_ITEMS_KEY] == ""
    assert values(vidicore.metadata(training_item), "vcs_face_value") == ["Pat Doe"]
    assert values(vidicore.metadata(clip_item), "adu_av_value") == ["Unknown"]


def test_the_job_data_key_is_the_one_the_script_writes() -> None:
    assert f'"{RELABELLED_ITEMS_KEY}"' in load_script(ScriptName.RELABEL).text
