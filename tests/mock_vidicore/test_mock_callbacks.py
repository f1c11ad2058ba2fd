"""The callback executor: CallbackDocuments in moto S3 run in the QuickJS sandbox."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from lxml import etree

from mock_api import NS, Api, new_item
from support import wait_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32

ROUND_TRIP_SCRIPT = """
var itemId = DATA.itemId;  // callback scripts get no `job` object
api.path("item").path(itemId).path("metadata").input({timespan: [{
  start: "225@PAL", end: "226@PAL",
  group: [{name: "adu_face_DeepVAKeyframeAnalyzer",
           field: [{name: "adu_analyzerId", value: [{value: "vidiplug"}]}],
           group: [{name: "adu_av_analyzedValue",
                    field: [{name: "adu_av_value", value: [{value: DATA.person}]},
                            {name: "adu_av_valueId", value: [{value: DATA.fingerprint}]}]}]}]
}]}).put();
var found = api.path("collection").input({text: [{value: DATA.collection}]}).put();
var collectionId = found.hits > 0 ? found.collection[0].id
  : api.path("collection").queryParam("name", DATA.collection).post().id;
var imported = api.path("import").queryParam("uri", DATA.faceUri)
  .queryParam("tag", "vcs_face_thumbnail").queryParam("original", "vcs_face_thumbnail")
  .input({timespan: [{start: "-INF", end: "+INF", field: [
    {name: "vcs_face_method", value: [{value: "INDEXED"}]},
    {name: "vcs_face_externalId", value: [{value: DATA.fingerprint}]}]}]}).post();
var newItem = imported.data.filter(function (d) { return d.key === "itemId"; })[0].value;
while (api.path("job").path(imported.jobId).get().status !== "FINISHED") { /* an import is a job */ }
api.path("collection").path(collectionId).path(newItem).put();
var shapeId = api.path("item/" + newItem).path("shape").get().uri[0];
api.path("item/" + newItem + "/shape/" + shapeId + "/metadata/vcs_face_status")
  .input("ACTIVE", "text").put();
logger.log("imported " + newItem);
"""


def callback_document(script: str, data: dict[str, Any] | None = None) -> bytes:
    """A CallbackDocument built with the element API; data reaches JS as a JSON literal."""
    root = etree.Element(f"{{{NS}}}CallbackDocument", nsmap={None: NS}, version="2")
    etree.SubElement(root, f"{{{NS}}}name").text = "test script"
    prefix = f"var DATA = {json.dumps(data or {})};\n"
    etree.SubElement(root, f"{{{NS}}}script").text = prefix + script
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


@pytest.fixture
def callback_id(api: Api, bucket: str) -> str:
    return str(api.json("POST", "resource/callback", json={
        "callback": {"uri": f"s3://test:test@{bucket}/callbacks/"}})["id"])


def started_job(api: Api, service: dict[str, str], callback_id: str) -> str:
    job = api.json("POST", f"item/{new_item(api)}/analyze", json={}, params={
        "resourceId": service["resourceId"], "callbackId": callback_id})
    api.json("PUT", f"job/{job['jobId']}/claim",
             params={"resourceId": service["resourceId"], "instance": "test"})
    return str(job["jobId"])


def hand_back(api: Api, job_id: str) -> None:
    api.json("PUT", f"job/{job_id}/status", params={"instance": "test", "status": "VIDINET_JOB"})


def finished(api: Api, job_id: str) -> Any:
    job = api.json("GET", f"job/{job_id}", params={"metadata": "true"})
    return job if job["status"] in ("FINISHED", "FAILED_TOTAL") else None


def keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_round_trip_writes_timespans_creates_an_item_in_a_collection_and_deletes_files(
        api: Api, service: dict[str, str], callback_id: str, s3: Any, bucket: str) -> None:
    job_id = started_job(api, service, callback_id)
    face_key = f"callbacks/{job_id}/faces/fp-1.png"
    s3.put_object(Bucket=bucket, Key=face_key, Body=PNG)
    analysed = api.json("GET", f"job/{job_id}", params={"metadata": "true"})
    data = {"itemId": next(d["value"] for d in analysed["data"] if d["key"] == "itemId"),
            "person": "Steven Stevenson", "fingerprint": "fp-1",
            "collection": f"FoundByFaceAnalysis-{uuid.uuid4().hex[:6]}",
            "faceUri": f"s3://{bucket}/{face_key}"}
    s3.put_object(Bucket=bucket, Key=f"callbacks/{job_id}/001-results.xml",
                  Body=callback_document(ROUND_TRIP_SCRIPT, data))

    hand_back(api, job_id)

    job = wait_for(lambda: finished(api, job_id), what="the callback to run")
    assert job["status"] == "FINISHED", job
    item_id = next(d["value"] for d in job["data"] if d["key"] == "itemId")
    span = api.json("GET", f"item/{item_id}", params={"content": "metadata"})["metadata"]["timespan"][0]
    assert (span["start"], span["end"]) == ("225@PAL", "226@PAL")
    detection = span["group"][0]["group"][0]["field"][0]
    assert detection["value"][0]["value"] == "Steven Stevenson"
    collection = api.json("PUT", "collection", json={"text": [{"value": data["collection"]}]})["collection"][0]
    members = api.json("GET", f"collection/{collection['id']}/item",
                       params={"content": "uri", "tag": "vcs_face_thumbnail"})
    assert members["item"][0]["files"]["uri"] == [data["faceUri"]]
    assert keys(s3, bucket) == []


def test_a_failing_script_keeps_the_files_and_fails_the_job(
        api: Api, service: dict[str, str], callback_id: str, s3: Any, bucket: str) -> None:
    job_id = started_job(api, service, callback_id)
    s3.put_object(Bucket=bucket, Key=f"callbacks/{job_id}/001-ok.xml",
                  Body=callback_document("logger.log('fine');"))
    s3.put_object(Bucket=bucket, Key=f"callbacks/{job_id}/002-broken.xml",
                  Body=callback_document("throw new Error('boom');"))

    hand_back(api, job_id)

    job = wait_for(lambda: finished(api, job_id), what="the job to fail")
    reason = next(d["value"] for d in job["data"] if d["key"] == "failureReason")
    assert job["status"] == "FAILED_TOTAL"
    assert "002-broken.xml" in reason and "boom" in reason
    assert sorted(keys(s3, bucket)) == [f"callbacks/{job_id}/001-ok.xml",
                                        f"callbacks/{job_id}/002-broken.xml"]


def test_a_callback_script_has_no_job_object_and_its_value_is_kept(
        api: Api, service: dict[str, str], callback_id: str, s3: Any, bucket: str) -> None:
    """VidiCore documents `job` for JavaScript job tasks only; a callback script cannot rely on it."""
    job_id = started_job(api, service, callback_id)
    s3.put_object(Bucket=bucket, Key=f"callbacks/{job_id}/001.xml",
                  Body=callback_document("({kind: typeof job, api: typeof api, logger: typeof logger});"))

    hand_back(api, job_id)

    job = wait_for(lambda: finished(api, job_id), what="the callback to run")
    assert job["status"] == "FINISHED", job
    assert json.loads(job["log"]["task"][-1]["result"]) == {"kind": "undefined", "api": "object", "logger": "object"}


def test_a_callback_script_that_calls_job_fails_the_job(
        api: Api, service: dict[str, str], callback_id: str, s3: Any, bucket: str) -> None:
    job_id = started_job(api, service, callback_id)
    s3.put_object(Bucket=bucket, Key=f"callbacks/{job_id}/001.xml",
                  Body=callback_document("job.setData('x', 'y');"))

    hand_back(api, job_id)

    job = wait_for(lambda: finished(api, job_id), what="the job to fail")
    assert job["status"] == "FAILED_TOTAL"
    assert "job" in job["log"]["task"][-1]["errorMessage"]


def test_a_script_that_loops_forever_is_stopped_by_the_time_limit(
        api: Api, service: dict[str, str], callback_id: str, s3: Any, bucket: str) -> None:
    job_id = started_job(api, service, callback_id)
    s3.put_object(Bucket=bucket, Key=f"callbacks/{job_id}/001-loop.xml",
                  Body=callback_document("while (true) {}"))

    hand_back(api, job_id)

    job = wait_for(lambda: finished(api, job_id), timeout_s=15, what="the time limit")
    assert job["status"] == "FAILED_TOTAL"
    assert "time limit" in job["log"]["task"][-1]["errorMessage"]


def run_test_script(api: Api, source: str) -> Any:
    response = api.request("POST", "javascript/test", data=source.encode(),
                           headers={"Content-Type": "application/javascript"})
    assert response.status_code == 200, response.text
    return response.json()


def test_scripts_see_nothing_beyond_api_and_logger(api: Api) -> None:
    names = ["require", "std", "os", "process", "fetch", "XMLHttpRequest", "http",
             "__mv_api", "__mv_job", "__mv_log", "print", "console"]

    kinds = run_test_script(api, f"{json.dumps(names)}.map(function (n) {{ return typeof globalThis[n]; }})")

    assert kinds == ["undefined"] * len(names)
    assert run_test_script(api, "[typeof api, typeof job, typeof logger]") == ["object", "undefined", "object"]


def test_os_and_std_modules_cannot_be_imported(api: Api) -> None:
    source = ("var r = 'pending'; import('os').then(function () { r = 'loaded'; },"
              " function (e) { r = String(e); }); r")

    assert run_test_script(api, source) != "loaded"


def test_api_builders_are_immutable(api: Api) -> None:
    result = run_test_script(api, "var a = api.path('item'); var b = a.path('VX-1');"
                                  "[api._spec.path.length, a._spec.path.length, Object.isFrozen(api)]")

    assert result == [0, 1, True]


def test_api_input_needs_a_type_for_strings(api: Api) -> None:
    response = api.request("POST", "javascript/test", data=b"api.path('item').input('x').put()",
                           headers={"Content-Type": "application/javascript"})

    assert response.status_code == 400
    assert "mandatory" in response.text


def test_api_calls_go_through_the_http_handlers(api: Api) -> None:
    item_id = new_item(api, ("title", "seen"))

    value = run_test_script(api, f"api.path('item').path({json.dumps(item_id)})"
                                 ".queryParam('content', 'metadata').get()"
                                 ".metadata.timespan[0].field[0].value[0].value")

    assert value == "seen"


def test_rich_returns_what_public_scripts_read_and_no_status(api: Api) -> None:
    """Public scripts read .output, .response and .responseBytes; VidiCore documents no status field."""
    item_id = new_item(api, ("title", "seen"))

    keys = run_test_script(api, f"var r = api.path('item').path({json.dumps(item_id)}).rich().get();"
                                "[Object.keys(r).sort(), r.output.id, typeof r.response,"
                                " r.responseBytes.length === r.response.length]")

    assert keys == [["output", "response", "responseBytes"], item_id, "string", True]


def test_an_http_error_throws_with_or_without_rich(api: Api) -> None:
    caught = run_test_script(api, "var seen = [];"
                                  "try { api.path('item/VX-987654').rich().get(); } catch (e) { seen.push(String(e)); }"
                                  "try { api.path('item/VX-987654').get(); } catch (e) { seen.push(String(e)); }"
                                  "seen")

    assert len(caught) == 2 and all("404" in text for text in caught)
