"""Custom job types (`POST job?type=`): only VidiCore's parameters; the callback comes with the hand-back."""

from __future__ import annotations

from typing import Any

import pytest

from mock_api import Api


def data(job: dict[str, Any]) -> dict[str, str]:
    return {d["key"]: d["value"] for d in job.get("data", [])}


def relabel(api: Api, expect: int = 200, **params: str) -> Any:
    return api.json("POST", "job", expect=expect, params={"type": "VCS_TRAINING_RELABEL_ITEM",
                                                          "jobmetadata": "itemId=VX-1", **params})


def callback(api: Api) -> str:
    return str(api.json("POST", "resource/callback", json={"callback": {"uri": "s3://k:s@bucket/cb/"}})["id"])


def test_a_custom_job_holds_its_jobmetadata_and_the_declaring_service(api: Api, service: dict[str, str]) -> None:
    job = relabel(api, priority="HIGH", notification="VX-1", notificationData="x=y")

    assert data(job) == {"itemId": "VX-1", "resourceId": service["resourceId"]}
    assert job["priority"] == "HIGH"


@pytest.mark.parametrize("param", ["callbackId", "resourceId", "storageId"])
def test_a_parameter_post_job_does_not_take_gets_400(api: Api, service: dict[str, str], param: str) -> None:
    """VidiCore's POST /job takes type, jobmetadata, priority and notification* only (reference §7.3)."""
    relabel(api, expect=400, **{param: callback(api)})


def test_the_hand_back_names_the_callback_resource_of_a_custom_job(api: Api, service: dict[str, str]) -> None:
    job = relabel(api)
    api.json("PUT", f"job/{job['jobId']}/claim", params={"resourceId": service["resourceId"], "instance": "a"})
    status = {"instance": "a", "status": "VIDINET_JOB"}

    api.json("PUT", f"job/{job['jobId']}/status", expect=400, params=status)  # names none
    api.json("PUT", f"job/{job['jobId']}/status", expect=400, params={**status, "callbackId": service["resourceId"]})
    cb = callback(api)
    handed = api.json("PUT", f"job/{job['jobId']}/status", params={**status, "callbackId": cb})

    assert handed["status"] == "VIDINET_JOB" and data(handed)["callbackId"] == cb
