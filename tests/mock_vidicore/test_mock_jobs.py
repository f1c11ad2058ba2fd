"""Jobs: analyze/train creation, listing filters, claim, takeover, progress, hand-back, failure, abort."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from mock_api import Api, new_item
from support import wait_for


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


def test_abort_answers_an_empty_body_and_a_second_abort_conflicts(api: Api, service: dict[str, str]) -> None:
    """VidiCore's DELETE job/{id} returns no JobDocument; a job not yet running ends ABORTED at once."""
    job = analyze(api, service)

    answer = api.request("DELETE", f"job/{job['jobId']}", params={"reason": "user"})
    api.json("DELETE", f"job/{job['jobId']}", expect=409)

    assert answer.status_code == 200 and answer.content == b""
    assert api.json("GET", f"job/{job['jobId']}")["status"] == "ABORTED"


def test_aborting_a_running_job_passes_through_abort_pending(api: Api, service: dict[str, str]) -> None:
    """VidiCore spells the pending state ABORT_PENDING; the executor's next poll ends the job."""
    job = analyze(api, service)
    claim(api, job, service)

    api.request("DELETE", f"job/{job['jobId']}", params={"reason": "user"}).raise_for_status()
    states = [api.json("GET", f"job/{job['jobId']}")["status"]]
    wait_for(lambda: api.json("GET", f"job/{job['jobId']}")["status"] == "ABORTED")

    assert states[0] in ("ABORT_PENDING", "ABORTED") and "ABORTED_PENDING" not in states
    api.json("PUT", f"job/{job['jobId']}/progress", expect=409,
             params={"instance": "a", "value": "10"})


def test_unknown_job_gets_404(api: Api) -> None:
    api.json("GET", "job/VX-424242", expect=404)


def test_custom_job_type_must_be_configured(api: Api, service: dict[str, str]) -> None:
    api.json("POST", "job", expect=400, params={"type": "NOT_A_TYPE"})

    job = api.json("POST", "job", params={"type": "VCS_TRAINING_RELABEL_ITEM",
                                          "jobmetadata": "newLabel=Ann"})

    assert data(job) == {"newLabel": "Ann", "resourceId": service["resourceId"]}


def take_over(api: Api, job: dict[str, Any], service: dict[str, str], instance: str,
              stale_after_s: str = "0", expect: int = 200) -> Any:
    return api.json("PUT", f"job/{job['jobId']}/claim", expect=expect,
                    params={"resourceId": service["resourceId"], "instance": instance,
                            "staleAfterS": stale_after_s})


def step_time(job: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(job["currentStep"]["timestamp"].replace("Z", "+00:00"))


def test_a_claim_stamps_the_step_and_counts_one_attempt(api: Api, service: dict[str, str]) -> None:
    job = analyze(api, service)

    claimed = claim(api, job, service, "a")

    assert job["currentStep"]["attempts"] == "0" and "timestamp" not in job["currentStep"]
    assert claimed["currentStep"]["attempts"] == "1"
    assert claimed["currentStep"]["timestamp"].endswith("Z")
    assert abs((datetime.now(UTC) - step_time(claimed)).total_seconds()) < 60


def test_progress_moves_the_step_timestamp_on(api: Api, service: dict[str, str]) -> None:
    job = analyze(api, service)
    claimed = claim(api, job, service, "a")
    wait_for(lambda: datetime.now(UTC) > step_time(claimed), what="the clock to pass the claim")

    updated = api.json("PUT", f"job/{job['jobId']}/progress", params={"instance": "a", "value": "40"})

    assert step_time(updated) > step_time(claimed)
    assert updated["currentStep"]["attempts"] == "1"


def test_a_quiet_started_job_is_taken_over_as_a_new_attempt(api: Api, service: dict[str, str]) -> None:
    job = analyze(api, service)
    claim(api, job, service, "dead")
    api.json("PUT", f"job/{job['jobId']}/progress", params={"instance": "dead", "value": "40"})

    taken = take_over(api, job, service, "b", stale_after_s="0")

    assert taken["status"] == "STARTED" and taken["currentStep"]["attempts"] == "2"
    assert data(taken)["claimedBy"] == "b" and data(taken)["previousClaimedBy"] == "dead"
    assert "progress" not in taken["currentStep"]  # the new attempt starts from nothing
    api.json("PUT", f"job/{job['jobId']}/progress", expect=409, params={"instance": "dead", "value": "50"})


def test_a_job_with_recent_progress_is_not_taken_over(api: Api, service: dict[str, str]) -> None:
    job = analyze(api, service)
    claim(api, job, service, "a")

    refused = take_over(api, job, service, "b", stale_after_s="3600", expect=409)

    assert refused["conflict"]["id"] == job["jobId"]
    after = api.json("GET", f"job/{job['jobId']}", params={"metadata": "true"})
    assert data(after)["claimedBy"] == "a" and after["currentStep"]["attempts"] == "1"


def test_stale_after_s_takes_a_ready_job_like_a_plain_claim(api: Api, service: dict[str, str]) -> None:
    job = analyze(api, service)

    claimed = take_over(api, job, service, "a", stale_after_s="600")

    assert data(claimed)["claimedBy"] == "a" and "previousClaimedBy" not in data(claimed)
    assert claimed["currentStep"]["attempts"] == "1"


def test_handed_back_and_ended_jobs_are_never_taken_over(api: Api, service: dict[str, str],
                                                          callback_id: str) -> None:
    handed_back, failed = analyze(api, service, callback_id), analyze(api, service)
    for job, status in ((handed_back, "VIDINET_JOB"), (failed, "FAILED_TOTAL")):
        claim(api, job, service, "a")
        api.json("PUT", f"job/{job['jobId']}/status", params={"instance": "a", "status": status})

    take_over(api, handed_back, service, "b", expect=409)
    take_over(api, failed, service, "b", expect=409)

    assert data(api.json("GET", f"job/{failed['jobId']}", params={"metadata": "true"}))["claimedBy"] == "a"


@pytest.mark.parametrize("value", ["-1", "soon", "nan"])
def test_stale_after_s_must_be_a_number_of_seconds(api: Api, service: dict[str, str], value: str) -> None:
    job = analyze(api, service)
    claim(api, job, service, "a")

    take_over(api, job, service, "b", stale_after_s=value, expect=400)


def test_two_takeovers_racing_for_one_job_exactly_one_wins(server: Any, service: dict[str, str],
                                                           api: Api) -> None:
    jobs = [analyze(api, service) for _ in range(8)]
    last_claim = max(step_time(claim(api, job, service, "dead")) for job in jobs)
    # Stale after 2 s: the dead claims are, the winner's fresh one is not (unless the loser is 2 s late).
    wait_for(lambda: (datetime.now(UTC) - last_claim).total_seconds() > 2.1,
             what="the dead instance's claims to go stale")
    racers = [Api(server.url), Api(server.url)]
    try:
        for job in jobs:
            start = threading.Barrier(2)
            codes: dict[str, int] = {}

            def race(client: Api, instance: str, job_id: str = job["jobId"],
                     start: threading.Barrier = start, codes: dict[str, int] = codes) -> None:
                start.wait()
                codes[instance] = client.request(
                    "PUT", f"job/{job_id}/claim", headers={"Accept": "application/json"},
                    params={"resourceId": service["resourceId"], "instance": instance,
                            "staleAfterS": "2"}).status_code

            threads = [threading.Thread(target=race, args=(c, f"host-{i}")) for i, c in enumerate(racers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)

            assert sorted(codes.values()) == [200, 409], codes
            after = api.json("GET", f"job/{job['jobId']}", params={"metadata": "true"})
            winner = next(name for name, code in codes.items() if code == 200)
            assert data(after)["claimedBy"] == winner and data(after)["previousClaimedBy"] == "dead"
            assert after["currentStep"]["attempts"] == "2"
    finally:
        for client in racers:
            client.close()
