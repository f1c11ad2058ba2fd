"""Operators name, merge and delete unknown-face items; the store and every timeline follow (issue item 8).

The real service against mock_vidicore and moto: names reach the store and the timelines
through VCS_TRAINING_RELABEL_ITEM / VCS_TRAINING_MERGE_ITEMS jobs whose results come back
as CallbackDocuments; a deleted unknown item suppresses its fingerprint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from operator_api import Operator, field_values, job_data
from support import wait_for
from vidiplug.identity.gallery import Identity, IdentityKind
from vidiplug.service.app import ServiceApp

pytestmark = pytest.mark.timeout(300)
EXAMPLES = "face_recognition/examples"
HAMILTON = f"{EXAMPLES}/short_hamilton_clip.mp4"
UNKNOWN_COLLECTION = "FoundByFaceAnalysis"
FAST_WATCH = {"service__unknowns_watch_interval_s": 0.2}
HOSTILE_NAMES = ['"); api.path("item").delete(); //', "]]></script><script>x</script>", "line\u2028separator"]


def faces(operator: Operator, item_id: str) -> list[dict[str, str]]:
    """The item's face values: start, fingerprint (adu_av_valueId), name (adu_av_value), group uuids."""
    found = []
    for span in operator.metadata(item_id).get("timespan", []) or []:
        for group in span.get("group", []) or []:
            if not str(group.get("name", "")).startswith("adu_face_"):
                continue
            for value in group.get("group", []) or []:
                fields = {f["name"]: f["value"][0]["value"] for f in value.get("field", []) or [] if f.get("value")}
                found.append({"start": span["start"], "fingerprint": fields["adu_av_valueId"],
                              "name": fields["adu_av_value"], "group": group["uuid"], "value_group": value["uuid"]})
    return found


def shown(operator: Operator, item_id: str) -> dict[str, set[str]]:
    """fingerprint -> the names the item's faces show for it."""
    names: dict[str, set[str]] = {}
    for face in faces(operator, item_id):
        names.setdefault(face["fingerprint"], set()).add(face["name"])
    return names


def the_item_of(operator: Operator, fingerprint: str) -> str:
    """The one item carrying ``fingerprint`` as vcs_face_externalId."""
    [item] = operator.items_with("vcs_face_externalId", fingerprint)
    return item


def analyzed(operator: Operator, app: ServiceApp, path: Path, **params: str) -> str:
    """A new item holding ``path``, analysed to the end (FINISHED); its id."""
    reg = app.registration
    assert reg is not None
    item = operator.import_file(path)
    job = operator.wait_job(operator.analyze(item, reg.resource_id, reg.callback_id, **params))
    assert job["status"] == "FINISHED", job
    return item


def start_merge(operator: Operator, source: str, target: str) -> str:
    """POST job?type=VCS_TRAINING_MERGE_ITEMS as reference §11.4 (VidiCore takes no callbackId); the job id."""
    params = [("type", "VCS_TRAINING_MERGE_ITEMS"), ("jobmetadata", f"itemId={source}"),
              ("jobmetadata", f"targetItemId={target}"), ("jobmetadata", "modelType=face")]
    return str(operator.call("POST", "job", params=params)["jobId"])


def placeholder(operator: Operator, *fields: tuple[str, str]) -> str:
    """A new item without media holding the generic ``fields``; its id."""
    body = {"timespan": [{"start": "-INF", "end": "+INF", "field": [
        {"name": n, "value": [{"value": v}]} for n, v in fields]}]}
    return str(operator.call("POST", "import/placeholder", json=body)["id"])


def stored(app: ServiceApp, identity_id: str) -> Identity | None:
    return next((i for i in app.store.iter_identities() if i.id == identity_id), None)


def unknown_collection_items(operator: Operator) -> list[str]:
    collection = operator.collection_id(UNKNOWN_COLLECTION)
    return operator.collection_items(collection) if collection else []


def test_rename_merge_delete_and_reanalyze(start_service, operator: Operator, data_dir: Path) -> None:
    app = start_service(**FAST_WATCH)
    reg = app.registration
    assert reg is not None
    clip = analyzed(operator, app, data_dir / HAMILTON, KeyframeInterval="0.5")
    biden = analyzed(operator, app, data_dir / EXAMPLES / "biden.jpg")
    pair = analyzed(operator, app, data_dir / EXAMPLES / "two_people.jpg")
    on_clip, [biden_fp] = shown(operator, clip), list(shown(operator, biden))
    [other_fp] = set(shown(operator, pair)) - {biden_fp}
    assert len(on_clip) == 2 and all(names == {"Unknown"} for names in on_clip.values())
    kept_fp, deleted_fp = sorted(on_clip)
    assert shown(operator, pair) == {biden_fp: {"Unknown"}, other_fp: {"Unknown"}}
    items = {fp: the_item_of(operator, fp) for fp in (*on_clip, biden_fp, other_fp)}
    assert sorted(unknown_collection_items(operator)) == sorted(items.values())

    # Naming an unknown item renames its fingerprint on every item showing it, in place.
    before = {f["group"] for f in faces(operator, pair)}
    operator.set_fields(items[biden_fp], ("vcs_face_value", "Joe Biden"))
    wait_for(lambda: shown(operator, biden) == {biden_fp: {"Joe Biden"}}
             and shown(operator, pair) == {biden_fp: {"Joe Biden"}, other_fp: {"Unknown"}},
             60, "both timelines to show the new name")
    assert stored(app, biden_fp) == Identity(biden_fp, "Joe Biden", IdentityKind.KNOWN)
    assert {f["group"] for f in faces(operator, pair)} == before

    # Merging an unknown into a named person points its faces at the person.
    obama = operator.import_file(data_dir / EXAMPLES / "obama.jpg", ("vcs_face_isTrainingMaterial", "true"),
                                 ("vcs_face_value", "Barack Obama"))
    merged = operator.wait_job(start_merge(operator, items[other_fp], obama))
    person = app.store.find_by_name("Barack Obama")
    assert merged["status"] == "FINISHED", merged
    assert person is not None and stored(app, other_fp) is None
    assert shown(operator, pair) == {biden_fp: {"Joe Biden"}, person.id: {"Barack Obama"}}
    assert field_values(operator.metadata(items[other_fp]), "vcs_face_method") == ["MERGED"]

    # Deleting an unknown item suppresses its fingerprint ...
    operator.delete_item(items[deleted_fp])
    wait_for(lambda: (stored(app, deleted_fp) or Identity("", None, IdentityKind.UNKNOWN)).suppressed,
             60, "the deleted item's fingerprint to be suppressed")

    # ... and re-analysis neither re-imports it nor shows it; the names and the merge hold.
    again = operator.wait_job(operator.analyze(clip, reg.resource_id, reg.callback_id, KeyframeInterval="0.5"))
    assert again["status"] == "FINISHED", again
    assert shown(operator, clip) == {kept_fp: {"Unknown"}}
    assert operator.items_with("vcs_face_externalId", deleted_fp) == []
    again = operator.wait_job(operator.analyze(pair, reg.resource_id, reg.callback_id))
    assert again["status"] == "FINISHED", again
    assert shown(operator, pair) == {biden_fp: {"Joe Biden"}, person.id: {"Barack Obama"}}
    assert sorted(unknown_collection_items(operator)) == sorted(set(items.values()) - {items[deleted_fp]})


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=["api-injection", "cdata-script", "u2028"])
def test_a_hostile_name_round_trips_unchanged_through_rename(start_service, operator: Operator, data_dir: Path,
                                                             name: str) -> None:
    app = start_service(**FAST_WATCH)
    photo = analyzed(operator, app, data_dir / EXAMPLES / "biden.jpg")
    [fingerprint] = shown(operator, photo)
    item = the_item_of(operator, fingerprint)
    items_before = operator.call("PUT", "item", json={})["hits"]

    operator.set_fields(item, ("vcs_face_value", name))

    wait_for(lambda: shown(operator, photo) == {fingerprint: {name}}, 60, "the timeline to show the name")
    assert stored(app, fingerprint) == Identity(fingerprint, name, IdentityKind.KNOWN)
    assert field_values(operator.metadata(item), "vcs_face_value") == [name]
    assert operator.call("PUT", "item", json={})["hits"] == items_before  # nothing deleted, nothing added


def test_a_merge_started_as_vidispines_ui_does_is_handed_back_through_the_services_callback(
        start_service, operator: Operator, data_dir: Path) -> None:
    app = start_service()
    clip = analyzed(operator, app, data_dir / HAMILTON, KeyframeInterval="0.5")
    source_fp, target_fp = sorted(shown(operator, clip))
    source, target = the_item_of(operator, source_fp), the_item_of(operator, target_fp)

    ui_job = operator.wait_job(start_merge(operator, source, target))  # no callbackId, as Vidispine's UI does

    assert ui_job["status"] == "FINISHED", ui_job
    assert job_data(operator.job(ui_job["jobId"]))["callbackId"] == app.registration.callback_id  # named at hand-back
    merges = operator.call("GET", "job", params={"type": "VCS_TRAINING_MERGE_ITEMS", "jobmetadata": f"itemId={source}"})
    assert [j["jobId"] for j in merges["job"]] == [ui_job["jobId"]]  # no second job stands in for it
    assert shown(operator, clip) == {target_fp: {"Unknown"}}
    assert stored(app, source_fp) is None and stored(app, target_fp) is not None


def test_only_a_fingerprint_seen_with_an_item_is_suppressed_when_the_item_goes(
        start_service, operator: Operator) -> None:
    app = start_service(service__unknowns_watch_interval_s=3600)  # looks only when the test asks
    watch = app.unknowns_watch
    assert watch is not None
    dim = app.engine.info.dim
    vector = np.ones((1, dim), np.float32) / np.sqrt(dim)
    fresh = app.store.create_unknown(app.engine.info, vector, [0.9], None)

    watch.check_once()  # its analyze callback has not created the item yet
    not_yet = stored(app, fresh.id)
    item = placeholder(operator, ("vcs_face_method", "INDEXED"), ("vcs_face_externalId", fresh.id))
    watch.check_once()
    still = stored(app, fresh.id)
    operator.delete_item(item)
    report = watch.check_once()

    assert not_yet is not None and not not_yet.suppressed
    assert still is not None and not still.suppressed
    assert report.suppressed == (fresh.id,)
    assert stored(app, fresh.id) == Identity(fresh.id, None, IdentityKind.UNKNOWN, suppressed=True)


def test_a_name_the_store_refuses_fails_one_relabel_job_and_is_not_asked_again(
        start_service, operator: Operator) -> None:
    app = start_service(service__unknowns_watch_interval_s=3600)  # one look at start, then only when asked
    watch = app.unknowns_watch
    assert watch is not None
    dim = app.engine.info.dim
    vectors = np.ones((1, dim), np.float32) / np.sqrt(dim)
    fingerprint = app.store.create_unknown(app.engine.info, vectors, [0.9], None).id
    item = placeholder(operator, ("vcs_face_externalId", fingerprint), ("vcs_face_value", "tab\tname"))

    def relabel_jobs() -> list[dict[str, Any]]:
        found = operator.call("GET", "job", params={"type": "VCS_TRAINING_RELABEL_ITEM", "metadata": "true",
                                                    "jobmetadata": f"itemId={item}"})
        return list(found.get("job", []) or [])

    watch.check_once()
    [job] = wait_for(relabel_jobs, 30, "a relabel job for the named item")
    failed = operator.wait_job(job["jobId"])
    for _ in range(3):
        watch.check_once()

    assert failed["status"] == "FAILED_TOTAL"
    assert "control characters" in job_data(failed)["failureReason"]
    assert len(relabel_jobs()) == 1
    assert stored(app, fingerprint) == Identity(fingerprint, None, IdentityKind.UNKNOWN)
    assert field_values(operator.metadata(item), "vcs_face_value") == ["tab\tname"]
