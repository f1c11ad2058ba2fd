"""Transient errors are retried (issue 12, item 8): a blip of a few seconds costs no job.

A job's progress and status calls to VidiCore and its S3 writes go through a FaultProxy
that fails a counted number of them; the service retries with backoff and the job ends
as if nothing happened, on its first attempt. Only an outage longer than the retries
(``[service] retry_window_s``) leaves the job to another instance.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import pytest

from faults_a import DROP, LOSE_ANSWER, PATIENT_RETRIES, QUICK_RETRIES, UNAVAILABLE, FaultProxy, fingerprints_shown
from operator_api import Operator, job_data
from support import wait_for
from vidiplug.service.app import ServiceApp

pytestmark = pytest.mark.timeout(300)
BIDEN = "face_recognition/examples/biden.jpg"
PROGRESS = r"^/API/job/[^/?]+/progress\?"
STATUS = r"^/API/job/[^/?]+/status\?"
BLIP = 5  # failed calls in a row: more than botocore's own attempts, a few seconds at production backoff


def analysed(operator: Operator, app: ServiceApp, data_dir: Path) -> tuple[str, dict[str, Any]]:
    """A new item holding the Biden photo, analysed by ``app``'s resource: (item id, ended JobDocument)."""
    reg = app.registration
    assert reg is not None
    item = operator.import_file(data_dir / BIDEN)
    return item, operator.wait_job(operator.analyze(item, reg.resource_id, reg.callback_id), timeout_s=60)


def assert_finished_first_time(job: dict[str, Any], app: ServiceApp) -> None:
    """The job FINISHED on its first attempt, run by ``app`` alone (no takeover)."""
    assert job["status"] == "FINISHED", job
    assert job["currentStep"]["attempts"] == "1"
    assert job_data(job)["claimedBy"] == app.instance


def test_a_vidicore_blip_during_progress_reports_costs_no_job(start_service, operator: Operator, data_dir: Path,
                                                              vidicore_proxy: FaultProxy) -> None:
    app = start_service(vidicore__url=vidicore_proxy.url, **PATIENT_RETRIES)
    vidicore_proxy.fail("PUT", PROGRESS, DROP, times=BLIP)

    item, job = analysed(operator, app, data_dir)

    assert_finished_first_time(job, app)
    assert len(vidicore_proxy.failed) == BLIP
    assert len(fingerprints_shown(operator, item)) == 1


def test_vidicore_answering_503_to_the_hand_back_costs_no_job(start_service, operator: Operator, data_dir: Path,
                                                              vidicore_proxy: FaultProxy) -> None:
    app = start_service(vidicore__url=vidicore_proxy.url, **PATIENT_RETRIES)
    vidicore_proxy.fail("PUT", STATUS, UNAVAILABLE, times=BLIP)

    item, job = analysed(operator, app, data_dir)

    assert_finished_first_time(job, app)
    assert len(vidicore_proxy.failed) == BLIP
    assert len(fingerprints_shown(operator, item)) == 1


def test_an_s3_blip_while_writing_the_callbacks_costs_no_job(start_service, operator: Operator, data_dir: Path,
                                                             s3_proxy: FaultProxy) -> None:
    app = start_service(callback__endpoint_url=s3_proxy.url, **PATIENT_RETRIES)
    s3_proxy.fail("PUT", ".", DROP, times=BLIP)

    item, job = analysed(operator, app, data_dir)

    assert_finished_first_time(job, app)
    assert len(s3_proxy.failed) == BLIP
    assert len(fingerprints_shown(operator, item)) == 1


def test_a_hand_back_whose_answer_was_lost_is_not_taken_for_a_failure(
        start_service, operator: Operator, data_dir: Path, vidicore_proxy: FaultProxy,
        caplog: pytest.LogCaptureFixture) -> None:
    app = start_service(vidicore__url=vidicore_proxy.url, **PATIENT_RETRIES)
    vidicore_proxy.fail("PUT", STATUS, LOSE_ANSWER, times=1)  # VidiCore takes VIDINET_JOB; the answer never comes
    caplog.set_level(logging.INFO, logger="vidiplug.service")

    _, job = analysed(operator, app, data_dir)
    assert app.poller is not None
    wait_for(lambda: job["jobId"] in app.poller.finished, 30, "the runner to end")

    assert_finished_first_time(job, app)
    assert len(vidicore_proxy.failed) == 1
    assert "cannot report to VidiCore" not in caplog.text
    assert f"job {job['jobId']}: 1 people" in caplog.text


def test_only_a_sustained_vidicore_outage_leaves_the_job_to_another_instance(
        start_service, operator: Operator, data_dir: Path, vidicore_proxy: FaultProxy) -> None:
    name = f"vidiplug-{uuid.uuid4().hex[:8]}"
    cut_off = start_service(instance="cut-off", vidicore__url=vidicore_proxy.url, vidicore__resource_name=name,
                            **QUICK_RETRIES)
    vidicore_proxy.fail("PUT", PROGRESS, DROP)  # every progress report, for longer than the retries last
    reg = cut_off.registration
    assert reg is not None and cut_off.poller is not None
    item = operator.import_file(data_dir / BIDEN)
    job_id = operator.analyze(item, reg.resource_id, reg.callback_id)
    wait_for(lambda: job_id in cut_off.poller.finished, 60, "the cut-off instance to give the job up")
    left = operator.job(job_id)

    start_service(instance="connected", vidicore__resource_name=name, service__claim_timeout_s=1.0)
    ended = operator.wait_job(job_id, timeout_s=60)

    assert left["status"] == "STARTED" and job_data(left)["claimedBy"] == "cut-off"
    assert len(vidicore_proxy.failed) > 1  # retried before giving up
    assert ended["status"] == "FINISHED", ended
    assert (job_data(ended)["claimedBy"], job_data(ended)["previousClaimedBy"]) == ("connected", "cut-off")
    assert len(fingerprints_shown(operator, item)) == 1
