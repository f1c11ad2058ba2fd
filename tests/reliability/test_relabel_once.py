"""One relabel job per rename across instances (issue 12, item 7).

Two services on one resource share one identity store, as two instances of a deployment
do. When an operator names an unknown-face item, their UnknownsWatches both notice; the
shared store remembers which name was asked for, so only one relabel job is ever started
for it, also when both look at the same moment and when the name is refused.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from operator_api import Operator
from support import wait_for
from vidiplug.identity.gallery import Identity, IdentityKind
from vidiplug.service.app import ServiceApp
from vidiplug.service.unknowns_watch import UnknownsWatch

pytestmark = pytest.mark.timeout(300)


def two_instances(start_service: Any, tmp_path: Path) -> tuple[ServiceApp, ServiceApp]:
    """Two services on one resource and one identity store; their watches look only when a test asks."""
    name, store = f"vidiplug-{uuid.uuid4().hex[:8]}", tmp_path / "shared-store.sqlite"
    return tuple(start_service(instance=instance, store=store, vidicore__resource_name=name,  # type: ignore[return-value]
                               service__unknowns_watch_interval_s=3600) for instance in ("host-a", "host-b"))


def unknown_item(operator: Operator, app: ServiceApp, name: str) -> tuple[str, str]:
    """A stored unknown fingerprint and an item carrying it whose vcs_face_value is ``name``: (fingerprint, item id)."""
    dim = app.engine.info.dim
    vectors = np.ones((1, dim), np.float32) / np.sqrt(dim)
    fingerprint = app.store.create_unknown(app.engine.info, vectors, [0.9], None).id
    body = {"timespan": [{"start": "-INF", "end": "+INF", "field": [
        {"name": "vcs_face_externalId", "value": [{"value": fingerprint}]},
        {"name": "vcs_face_value", "value": [{"value": name}]}]}]}
    return fingerprint, str(operator.call("POST", "import/placeholder", json=body)["id"])


def relabel_jobs(operator: Operator, item_id: str) -> list[dict[str, Any]]:
    """Every relabel job started for ``item_id``, in any state."""
    found = operator.call("GET", "job", params={"type": "VCS_TRAINING_RELABEL_ITEM", "metadata": "true",
                                                "jobmetadata": f"itemId={item_id}"})
    return list(found.get("job", []) or [])


def watch_of(app: ServiceApp) -> UnknownsWatch:
    assert app.unknowns_watch is not None
    return app.unknowns_watch


def test_a_refused_name_is_asked_for_once_across_instances(start_service, operator: Operator, tmp_path: Path) -> None:
    first, second = two_instances(start_service, tmp_path)
    fingerprint, item = unknown_item(operator, first, "tab\tname")  # a name the store refuses

    watch_of(first).check_once()
    [job] = wait_for(lambda: relabel_jobs(operator, item), 30, "a relabel job for the named item")
    failed = operator.wait_job(job["jobId"], timeout_s=60)
    for app in (second, first, second):
        watch_of(app).check_once()

    assert failed["status"] == "FAILED_TOTAL", failed
    assert len(relabel_jobs(operator, item)) == 1
    assert first.store.get(fingerprint) == Identity(fingerprint, None, IdentityKind.UNKNOWN)


def test_two_instances_noticing_a_rename_at_once_start_one_relabel_job(start_service, operator: Operator,
                                                                        tmp_path: Path) -> None:
    first, second = two_instances(start_service, tmp_path)
    fingerprint, item = unknown_item(operator, first, "Jane Roe")
    together = threading.Barrier(2)
    reports: list[Any] = []

    def look(app: ServiceApp) -> None:
        together.wait(timeout=30)
        reports.append(watch_of(app).check_once())

    threads = [threading.Thread(target=look, args=(app,)) for app in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    [job] = relabel_jobs(operator, item)
    ended = operator.wait_job(job["jobId"], timeout_s=60)
    for app in (first, second):
        watch_of(app).check_once()

    assert len(reports) == 2 and sum(len(report.relabel_jobs) for report in reports) <= 1  # 0: a start-up look asked
    assert ended["status"] == "FINISHED", ended
    assert first.store.get(fingerprint) == Identity(fingerprint, "Jane Roe", IdentityKind.KNOWN)
    assert len(relabel_jobs(operator, item)) == 1


def test_a_name_changed_again_is_asked_for_again(start_service, operator: Operator, tmp_path: Path) -> None:
    first, second = two_instances(start_service, tmp_path)
    fingerprint, item = unknown_item(operator, first, "tab\tname")
    watch_of(first).check_once()
    [refused] = wait_for(lambda: relabel_jobs(operator, item), 30, "a relabel job for the refused name")
    operator.wait_job(refused["jobId"], timeout_s=60)

    operator.set_fields(item, ("vcs_face_value", "Jane Roe"))
    watch_of(second).check_once()
    jobs = relabel_jobs(operator, item)
    ended = operator.wait_job(next(j["jobId"] for j in jobs if j["jobId"] != refused["jobId"]), timeout_s=60)

    assert len(jobs) == 2
    assert ended["status"] == "FINISHED", ended
    assert second.store.get(fingerprint) == Identity(fingerprint, "Jane Roe", IdentityKind.KNOWN)
