"""A face is never hidden by a failure (issue 12, item 1).

A new unknown fingerprint is written to the identity store during the analysis, before its
item exists. When the hand-back then fails (S3 down, VidiCore refusing the import, the
service killed in between), the fingerprint stays *pending*: the next analysis that finds
the face imports it and shows it, instead of taking the missing item for one an operator
deleted. Real service, mock_vidicore and moto; the faults come from a proxy or a store that
dies on purpose.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from faults_a import QUICK_RETRIES, FaultProxy, fingerprints_shown
from operator_api import Operator, job_data
from service_fixtures import service_settings
from support import script_results
from vidiplug.engine.base import EngineInfo
from vidiplug.identity.gallery import Identity
from vidiplug.identity.store import SqliteStore
from vidiplug.service.app import ServiceApp
from vidiplug.service.runner import JobContext, run_job
from vidiplug.vidicore.client import VidiCoreClient

pytestmark = pytest.mark.timeout(300)
BIDEN = "face_recognition/examples/biden.jpg"
NO_WATCH = {"service__unknowns_watch_interval_s": 3600}  # one look at start; later ones only when a test asks


class Killed(BaseException):
    """The process died here: like kill -9, nothing after this point runs (no `except Exception` catches it)."""


class DiesAfterStoreWrite(SqliteStore):
    """An identity store whose process is killed right after it saved a new unknown fingerprint."""

    def create_unknown(self, info: EngineInfo, vectors: NDArray[np.float32], qualities: Any,
                       thumbnail_jpeg: bytes | None, identity_id: str | None = None, **join: Any) -> Identity:
        created = super().create_unknown(info, vectors, qualities, thumbnail_jpeg, identity_id=identity_id, **join)
        raise Killed(f"killed after storing {created.id}")


def analyse(operator: Operator, app: ServiceApp, item_id: str, **params: str) -> dict[str, Any]:
    """Analyse ``item_id`` with ``app``'s resource and wait for the job to end; the JobDocument."""
    reg = app.registration
    assert reg is not None
    return operator.wait_job(operator.analyze(item_id, reg.resource_id, reg.callback_id, **params), timeout_s=120)


def assert_face_shown_with_its_item(operator: Operator, app: ServiceApp, photo: str, fingerprint: str) -> None:
    """The photo shows ``fingerprint``, one item carries it, and VidiCore's item confirms it in the store."""
    assert fingerprints_shown(operator, photo) == {fingerprint}
    assert len(operator.items_with("vcs_face_externalId", fingerprint)) == 1
    assert app.unknowns_watch is not None
    app.unknowns_watch.check_once()
    assert fingerprint not in app.store.pending_unknowns()


def test_a_face_whose_hand_back_met_an_s3_outage_is_imported_by_the_next_analysis(
        start_service, operator: Operator, data_dir: Path, s3_proxy: FaultProxy) -> None:
    app = start_service(callback__endpoint_url=s3_proxy.url, **QUICK_RETRIES, **NO_WATCH)
    photo = operator.import_file(data_dir / BIDEN)
    s3_proxy.fail("PUT", ".")  # S3 down for longer than the retries last

    failed = analyse(operator, app, photo)
    [fingerprint] = app.store.pending_unknowns()
    s3_proxy.heal()
    again = analyse(operator, app, photo)

    assert failed["status"] == "FAILED_TOTAL", failed
    assert s3_proxy.failed
    assert again["status"] == "FINISHED", again
    assert script_results(again)["vidiplugDeletedFingerprints"] == ""
    assert_face_shown_with_its_item(operator, app, photo, fingerprint)


def test_a_face_whose_import_vidicore_refused_is_imported_by_the_next_analysis(
        start_service, operator: Operator, data_dir: Path) -> None:
    app = start_service(**NO_WATCH)
    photo = operator.import_file(data_dir / BIDEN)

    refused = analyse(operator, app, photo, StorageId="VX-999")
    [fingerprint] = app.store.pending_unknowns()
    again = analyse(operator, app, photo)

    assert refused["status"] == "FAILED_TOTAL", refused
    assert "VX-999" in job_data(refused)["failureReason"]
    assert again["status"] == "FINISHED", again
    assert script_results(again)["vidiplugDeletedFingerprints"] == ""
    assert_face_shown_with_its_item(operator, app, photo, fingerprint)


def test_a_face_stored_by_a_service_killed_before_its_hand_back_is_imported_by_the_job_taken_over(
        start_service, operator: Operator, data_dir: Path, tmp_path: Path, dlib_engine: Any, mock_url: str,
        s3_endpoint: str, callback_bucket: str) -> None:
    name, store = f"vidiplug-{uuid.uuid4().hex[:8]}", tmp_path / "shared-store.sqlite"
    registrar = start_service(instance="registrar", vidicore__resource_name=name, store=store)
    registrar.stop()
    reg = registrar.registration
    assert reg is not None
    photo = operator.import_file(data_dir / BIDEN)
    job_id = operator.analyze(photo, reg.resource_id, reg.callback_id)
    settings = service_settings(mock_url, s3_endpoint, callback_bucket, store, vidicore__resource_name=name)
    with VidiCoreClient(mock_url, "admin", "admin") as client:
        claimed = client.claim_job(job_id, reg.resource_id, "doomed-host")
    with DiesAfterStoreWrite(store) as dying:
        context = JobContext(dlib_engine, dying, settings, lambda: VidiCoreClient(mock_url, "admin", "admin"),
                             "doomed-host", reg.callback_id)
        with pytest.raises(Killed):
            run_job(context, claimed)
        [fingerprint] = dying.pending_unknowns()

    live = start_service(instance="host-live", vidicore__resource_name=name, store=store,
                         service__claim_timeout_s=1.0, **NO_WATCH)
    ended = operator.wait_job(job_id, timeout_s=120)

    assert ended["status"] == "FINISHED", ended
    assert job_data(ended)["previousClaimedBy"] == "doomed-host"
    assert script_results(ended)["vidiplugDeletedFingerprints"] == ""
    assert_face_shown_with_its_item(operator, live, photo, fingerprint)
