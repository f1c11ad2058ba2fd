"""Instances that register at the same moment end on one resource per name; a restart attaches to it too.

Against the real mock on loopback: threads that each hold their own VidiCore client are
released together by a barrier, so every one looks the resource up before any creates it.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

from faults_b import CALLBACK_SECRET, write_config
from operator_api import Operator
from service_fixtures import service_settings
from vidiplug.service.registration import Registration, register
from vidiplug.settings import Settings
from vidiplug.vidicore.client import VidiCoreClient

INSTANCES = 8
JOIN_TIMEOUT_S = 120.0


def register_at_once(settings: Settings, count: int) -> list[Registration]:
    """``count`` threads, each with its own client, call ``register`` together; their registrations."""
    barrier = threading.Barrier(count)
    results: list[Registration | None] = [None] * count
    errors: list[BaseException] = []

    def instance(index: int) -> None:
        vc = settings.vidicore
        try:
            with VidiCoreClient(vc.url, vc.user, vc.password.reveal(), timeout_s=vc.timeout_s) as client:
                client.list_resources("vidinet")  # connection open before the start line
                barrier.wait(timeout=JOIN_TIMEOUT_S)
                results[index] = register(client, settings)
        except BaseException as exc:  # reported by the test below, with its type
            errors.append(exc)

    threads = [threading.Thread(target=instance, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT_S)
    assert not errors, errors
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def race_settings(mock_url: str, s3_endpoint: str, bucket: str, tmp_path: Path) -> Settings:
    tag = uuid.uuid4().hex[:8]
    return service_settings(mock_url, s3_endpoint, bucket, tmp_path / "store.sqlite",
                        vidicore__resource_name=f"race-{tag}", service__training_collection=f"Training-{tag}",
                        analysis__unknown_collection_name=f"Unknowns-{tag}")


def test_instances_registering_at_once_end_on_one_vidinet_resource(mock_url: str, s3_endpoint: str,
                                                                   callback_bucket: str, operator: Operator,
                                                                   tmp_path: Path) -> None:
    settings = race_settings(mock_url, s3_endpoint, callback_bucket, tmp_path)

    registrations = register_at_once(settings, INSTANCES)

    resource_ids = {r.resource_id for r in registrations}
    assert len(resource_ids) == 1, resource_ids
    url = f"vidinet://{settings.vidicore.resource_name}@vidiplug"
    assert operator.resources("vidinet", url) == sorted(resource_ids)


def test_instances_registering_at_once_share_one_callback_and_one_collection_each(
        mock_url: str, s3_endpoint: str, callback_bucket: str, operator: Operator, tmp_path: Path) -> None:
    settings = race_settings(mock_url, s3_endpoint, callback_bucket, tmp_path)

    registrations = register_at_once(settings, INSTANCES)

    assert len(set(registrations)) == 1, set(registrations)
    only = registrations[0]
    assert operator.resources("callback", settings.callback.uri.reveal()) == [only.callback_id]
    assert operator.collections_named(settings.service.training_collection) == [only.training_collection_id]
    assert operator.collections_named(settings.analysis.unknown_collection_name) == [only.unknown_collection_id]


def test_a_restarted_instance_attaches_to_the_resource_the_racers_chose(mock_url: str, s3_endpoint: str,
                                                                        callback_bucket: str, tmp_path: Path) -> None:
    settings = race_settings(mock_url, s3_endpoint, callback_bucket, tmp_path)
    chosen = register_at_once(settings, INSTANCES)[0]

    vc = settings.vidicore
    with VidiCoreClient(vc.url, vc.user, vc.password.reveal(), timeout_s=vc.timeout_s) as client:
        again = register(client, settings)

    assert again == chosen


def test_serve_processes_started_together_share_one_resource_and_run_its_jobs(
        mock_url: str, s3_endpoint: str, callback_bucket: str, operator: Operator, serve: Any, tmp_path: Path,
        data_dir: Path) -> None:
    resource = f"together-{uuid.uuid4().hex[:8]}"
    config = write_config(tmp_path / "vidiplug.toml", mock_url, s3_endpoint, callback_bucket,
                          tmp_path / "store.sqlite", resource=resource)
    first, second = serve(config, "first"), serve(config, "second")

    lines = [served.wait_line("serving as resource") for served in (first, second)]

    ids = {line.split("serving as resource ")[1].split()[0] for line in lines}
    assert len(ids) == 1, lines
    resource_id = ids.pop()
    assert operator.resources("vidinet", f"vidinet://{resource}@vidiplug") == [resource_id]
    callback_id = operator.resources("callback", f"s3://test:{CALLBACK_SECRET}@{callback_bucket}/callbacks/")[0]
    item = operator.import_file(data_dir / "face_recognition/examples/obama.jpg")
    job = operator.wait_job(operator.analyze(item, resource_id, callback_id))
    assert job["status"] == "FINISHED", job
