"""Jobs: analyze/train creation, listing filters, claim, progress, hand-back, failure, abort."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from mock_api import Api, new_item


@pytest.fixture
def callback_id(api: Api) -> str:
    return str(api.json("POST", "resource/callback",
                        json={"callback": {"uri": "s3://k:s@bucket/cb/"}})["id"])


def analyze(api: Api, service: dict[str, str], callback_id: str = "", *pairs: str) -> dict[str, Any]:
    params: list[tuple[str, str]] = [("resourceId", service["resourceId"])]
    if callback_id:
        params.append(("callbackId", callback_id))
    params += [("jobmetadata", pair) for pair in pairs]
    result: dict[str, Any] = api.json("POST", f"item/{new_item(api)}/analyze", params=params, json={})
    return result


def data(job: dict[str, Any]) -> dict[str, str]:
    return {d["key"]: d["value"] for d in job.get("data", [])}


def claim(api: Api, job: dict[str, Any], service: dict[str, str], instance: str = "a",
          expect: int = 200) -> Any:
    return api.json("PUT", f"job/{job['jobId']}/claim", expect=expect,
                    params={"resourceId": service["resourceId"], "instance": instance})


def test_analyze_creates_a_ready_job_with_its_data(api: Api, service: dict[str, str],
                                                   callback_id: str) -> None:
    job = analyze(api, service, callback_id, "cognitive_service_ConfidenceThreshold=0.75",
                  "cognitive_service_UnknownCollectionName=a=b")

    assert job["status"] == "READY" and job["type"] == "ANALYZE"
    assert data(job)["resourceId"] == service["resourceId"]
    assert data(job)["callbackId"] == callback_id
    assert data(job)["cognitive_service_ConfidenceThreshold"] == "0.75"
    assert data(job)["cognitive_service_UnknownCollectionName"] == "a=b"
    assert data(job)["itemId"].startswith("VX-")


def test_analyze_without_resource_id_gets_400(api: Api) -> None:
    api.json("POST", f"item/{new_item(api)}/analyze", expect=400)


def test_jobmetadata_without_equals_gets_400(api: Api, service: dict[str, str]) -> None:
    api.json("POST", f"item/{new_item(api)}/analyze", expect=400,
             params={"resourceId": service["resourceId"], "jobmetadata": "novalue"})


def test_train_creates_a_job_on_the_collection(api: Api, service: dict[str, str],
                                               callback_id: str) -> None:
    collection = api.json("POST", "collection", params={"name": f"T-{uuid.uuid4().hex[:6]}"})

    job = api.json("POST", f"collection/{collection['id']}/train", json={}, params={
        "resourceId": service["resourceId"], "callbackId": callback_id,
        "jobmetadata": "cognitive_service_QualitySetting=Mid"})

    assert job["type"] == "TRAINING" and data(job)["collectionId"] == collection["id"]


def test_jobs_are_listed_with_type_state_and_jobmetadata_filters(api: Api,
                                                                service: dict[str, str]) -> None:
    marker = uuid.uuid4().hex
    job = analyze(api, service, "", f"marker={marker}")

    found = api.json("GET", "job", params={"type": "ANALYZE", "state": "READY,STARTED",
                                           "jobmetadata": f"marker={marker}", "metadata": "true"})
    none = api.json("GET", "job", params={"state": "FINISHED", "jobmetadata": f"marker={marker}"})

    assert [j["jobId"] for j in found["job"]] == [job["jobId"]] and found["hits"] == 1
    assert data(found["job"][0])["marker"] == marker
    assert none["hits"] == 0


def test_a_job_is_claimed_once_and_a_second_claim_conflicts(api: Api,
                                                            service: dict[str, str]) -> None:
    job = analyze(api, service)

    claimed = claim(api, job, service, "a")
    second = claim(api, job, service, "b", expect=409)

    assert claimed["status"] == "STARTED" and data(claimed)["claimedBy"] == "a"
    assert second["conflict"]["id"] == job["jobId"]


def test_claim_for_another_resource_gets_400(api: Api, service: dict[str, str]) -> None:
    job = analyze(api, service)

    claim(api, job, {"resourceId": "VX-999"}, expect=400)


def test_progress_is_reported_by_the_claiming_instance_only(api: Api,
                                                            service: dict[str, str]) -> None:
    job = analyze(api, service)
    claim(api, job, service, "a")

    updated = api.json("PUT", f"job/{job['jobId']}/progress",
                       params={"instance": "a", "value": "40", "description": "decoding"})
    api.json("PUT", f"job/{job['jobId']}/progress", expect=409, params={"instance": "b", "value": "50"})

    assert updated["currentStep"]["progress"] == {"value": "40", "total": "100", "unit": "percent"}
    assert updated["currentStep"]["description"] == "decoding"


def test_a_service_fails_a_job_with_a_reason(api: Api, service: dict[str, str]) -> None:
    job = analyze(api, service)
    claim(api, job, service)

    failed = api.json("PUT", f"job/{job['jobId']}/status",
                      params={"instance": "a", "status": "FAILED_TOTAL", "reason": "no video stream"})

    assert failed["status"] == "FAILED_TOTAL" and "finished" in failed
    assert failed["log"]["task"][0]["errorMessage"] == "no video stream"


def test_vidinet_job_state_needs_a_callback_resource(api: Api, service: dict[str, str]) -> None:
    job = analyze(api, service)
    claim(api, job, service)

    api.json("PUT", f"job/{job['jobId']}/status", expect=400,
             params={"instance": "a", "status": "VIDINET_JOB"})


def test_abort_sets_aborted_and_a_second_abort_conflicts(api: Api, service: dict[str, str]) -> None:
    job = analyze(api, service)

    aborted = api.json("DELETE", f"job/{job['jobId']}", params={"reason": "user"})
    api.json("DELETE", f"job/{job['jobId']}", expect=409)

    assert aborted["status"] == "ABORTED"


def test_unknown_job_gets_404(api: Api) -> None:
    api.json("GET", "job/VX-424242", expect=404)


def test_custom_job_type_must_be_configured(api: Api, service: dict[str, str]) -> None:
    api.json("POST", "job", expect=400, params={"type": "NOT_A_TYPE"})

    job = api.json("POST", "job", params={"type": "VCS_TRAINING_RELABEL_ITEM",
                                          "jobmetadata": "newLabel=Ann"})

    assert data(job) == {"newLabel": "Ann", "resourceId": service["resourceId"]}
