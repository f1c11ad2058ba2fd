"""Two service instances on two resources sharing one PostgreSQL identity store.

Against mock VidiCore, moto and a real PostgreSQL server.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from operator_api import Operator
from postgres_server import PostgresServer
from vidiplug.identity.gallery import IdentityKind
from vidiplug.identity.store import open_store
from vidiplug.service.app import ServiceApp

pytestmark = pytest.mark.timeout(300)
BIDEN = "face_recognition/examples/biden.jpg"


def test_two_instances_on_one_postgresql_store_make_one_fingerprint_and_one_item(
        start_service: Callable[..., ServiceApp], operator: Operator, data_dir: Path,
        postgres_server: PostgresServer) -> None:
    with postgres_server.database() as url:
        apps: list[ServiceApp] = [start_service(f"host-{name}", store__url=url) for name in "ab"]
        photos = [operator.import_file(data_dir / BIDEN) for _ in apps]
        jobs = []
        for app, photo in zip(apps, photos):  # both started before either ends: they analyse at once
            assert app.registration is not None
            jobs.append(operator.analyze(photo, app.registration.resource_id, app.registration.callback_id))

        ended = [operator.wait_job(job, timeout_s=120) for job in jobs]
        with open_store(url) as store:
            unknowns = [i.id for i in store.iter_identities() if i.kind is IdentityKind.UNKNOWN]
        items = operator.items_with("vcs_face_externalId", unknowns[0]) if unknowns else []

    assert [job["status"] for job in ended] == ["FINISHED", "FINISHED"], ended
    assert len(unknowns) == 1
    assert len(items) == 1
