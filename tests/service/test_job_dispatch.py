"""Jobs are dispatched by their type through one table (runner.JOB_HANDLERS); an unknown type fails the job."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from operator_api import Operator, job_data
from vidiplug.identity.store import SqliteStore
from vidiplug.service.app import ServiceApp
from vidiplug.service.declaration import ANALYZE_JOB_TYPE, MERGE_JOB_TYPE, RELABEL_JOB_TYPE, TRAIN_JOB_TYPE
from vidiplug.service.runner import JOB_HANDLERS, JobContext, run_job
from vidiplug.vidicore.client import VidiCoreClient
from vidiplug.vidicore.documents import Job

pytestmark = pytest.mark.timeout(300)
BIDEN = "face_recognition/examples/biden.jpg"


@pytest.fixture
def registered(start_service: Any) -> ServiceApp:
    """A service that registered its resource and callback location, then stopped (it claims nothing)."""
    app: ServiceApp = start_service(service__unknowns_watch_interval_s=3600)
    app.stop()
    return app


@pytest.fixture
def context(registered: ServiceApp, dlib_engine: Any, tmp_path: Path, mock_url: str) -> Iterator[JobContext]:
    """What run_job needs, for instance "dispatch-host", on a store of its own."""
    reg = registered.registration
    assert reg is not None
    store = SqliteStore(tmp_path / "dispatch.sqlite")
    try:
        yield JobContext(dlib_engine, store, registered.settings, lambda: VidiCoreClient(mock_url, "admin", "admin"),
                         "dispatch-host", reg.callback_id)
    finally:
        store.close()


@pytest.fixture
def claimed(registered: ServiceApp, operator: Operator, data_dir: Path, mock_url: str) -> Job:
    """An analyze job on a photo, claimed by "dispatch-host"."""
    reg = registered.registration
    assert reg is not None
    job_id = operator.analyze(operator.import_file(data_dir / BIDEN), reg.resource_id, reg.callback_id)
    with VidiCoreClient(mock_url, "admin", "admin") as client:
        return client.claim_job(job_id, reg.resource_id, "dispatch-host")


def test_a_job_of_an_unknown_type_fails_naming_the_type(context: JobContext, claimed: Job, operator: Operator) -> None:
    outcome = run_job(context, replace(claimed, type="VCS_FROBNICATE"))

    ended = operator.job(claimed.id)
    assert outcome == "failed"
    assert ended["status"] == "FAILED_TOTAL"
    assert job_data(ended)["failureReason"].startswith(
        "type='VCS_FROBNICATE': is not a job type vidiplug runs (known: ANALYZE, TRAINING, ")


def test_each_job_type_reaches_its_own_handler_whatever_its_data(context: JobContext, claimed: Job) -> None:
    reached: list[tuple[str, str]] = []

    def handler_for(name: str) -> Any:
        return lambda context, client, job, workdir, report: reached.append((name, job.type))

    handlers = {job_type: handler_for(job_type) for job_type in JOB_HANDLERS}
    outcomes = [run_job(context, replace(claimed, type=job_type), handlers) for job_type in JOB_HANDLERS]

    assert outcomes == ["handed_back"] * 4
    assert reached == [(t, t) for t in (ANALYZE_JOB_TYPE, TRAIN_JOB_TYPE, MERGE_JOB_TYPE, RELABEL_JOB_TYPE)]


def test_the_job_types_vidicore_creates_are_in_the_table(registered: ServiceApp, operator: Operator,
                                                          data_dir: Path) -> None:
    reg = registered.registration
    assert reg is not None
    collection = operator.collection_id("FaceTrainingDataset")
    assert collection is not None

    analyze = operator.job(operator.analyze(operator.import_file(data_dir / BIDEN), reg.resource_id, reg.callback_id))
    train = operator.job(operator.train(collection, reg.resource_id, reg.callback_id))

    assert (analyze["type"], train["type"]) == (ANALYZE_JOB_TYPE, TRAIN_JOB_TYPE)
    assert {analyze["type"], train["type"]} <= set(JOB_HANDLERS)


def test_a_collection_job_of_an_undocumented_type_is_a_train_job_and_an_item_job_is_not() -> None:
    # VidiCore's type for a collection's train job is not documented (vidicore-api.md §7.2).
    from vidiplug.errors import JobParameterError
    from vidiplug.service.runner import handler_for
    from vidiplug.vidicore.documents import JobState

    collection_job = Job("VX-1", "COLLECTION_TRAIN", JobState.READY, {"collectionId": "VX-9"}, "admin", None)
    item_job = Job("VX-2", "COLLECTION_TRAIN", JobState.READY, {"itemId": "VX-3"}, "admin", None)

    assert handler_for(collection_job) is JOB_HANDLERS[TRAIN_JOB_TYPE]
    with pytest.raises(JobParameterError, match="type='COLLECTION_TRAIN'"):
        handler_for(item_job)
