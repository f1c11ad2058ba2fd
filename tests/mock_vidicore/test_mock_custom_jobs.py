"""Custom job types (`POST job?type=`): the optional callbackId, checked like analyze checks it."""

from __future__ import annotations

from typing import Any

from mock_api import Api


def data(job: dict[str, Any]) -> dict[str, str]:
    return {d["key"]: d["value"] for d in job.get("data", [])}


def relabel(api: Api, expect: int = 200, **params: str) -> Any:
    return api.json("POST", "job", expect=expect, params={"type": "VCS_TRAINING_RELABEL_ITEM",
                                                          "jobmetadata": "itemId=VX-1", **params})


def test_a_custom_job_records_the_callback_resource_it_names(api: Api, service: dict[str, str]) -> None:
    callback = str(api.json("POST", "resource/callback", json={"callback": {"uri": "s3://k:s@bucket/cb/"}})["id"])

    job = relabel(api, callbackId=callback)

    assert data(job) == {"itemId": "VX-1", "resourceId": service["resourceId"], "callbackId": callback}


def test_a_custom_job_without_callback_id_has_none(api: Api, service: dict[str, str]) -> None:
    job = relabel(api)

    assert "callbackId" not in data(job)


def test_a_callback_id_that_is_not_a_callback_resource_gets_400(api: Api, service: dict[str, str]) -> None:
    relabel(api, expect=400, callbackId=service["resourceId"])
    relabel(api, expect=404, callbackId="VX-424242")
