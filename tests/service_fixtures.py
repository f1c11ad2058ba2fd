"""Service fixtures: mock_vidicore on loopback (beside the session's moto S3 server), and real running services.

Nothing is patched: the service speaks HTTP to the mock, writes callbacks to moto, and the
mock's own QuickJS executor runs them. The conftest.py of tests/service and tests/reliability
expose these fixtures; test modules import only the plain helpers (``service_settings``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_vidicore.launch import launch_mock
from operator_api import Operator
from vidiplug.service.app import ServiceApp
from vidiplug.settings import Settings, load_settings

StartService = Callable[..., ServiceApp]


@pytest.fixture(scope="module")
def mock_url(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Iterator[str]:
    """`python -m mock_vidicore --port 0` for this module, running callbacks from moto."""
    folder = tmp_path_factory.mktemp("mock")
    running = launch_mock(folder, "--bridge", "--s3-endpoint", s3_endpoint, "--poll-interval-s", "0.05",
                          "--script-time-limit-s", "30", "--data-dir", str(folder / "data"))
    try:
        yield running.url
    finally:
        assert running.stop() == 0, running.log_path.read_text()


@pytest.fixture
def operator(mock_url: str) -> Iterator[Operator]:
    """The operator's side of VidiCore."""
    client = Operator(mock_url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def callback_bucket(s3: Any) -> str:
    """A fresh, empty bucket for one test's callback location."""
    bucket = f"cb-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    return bucket


def service_settings(mock_url: str, s3_endpoint: str, bucket: str, store: Path, **overrides: object) -> Settings:
    """Settings for a service against the mock and moto; ``overrides`` are ``section__key=value``."""
    values: dict[str, object] = {
        "vidicore.url": mock_url, "vidicore.user": "admin", "vidicore.password": "admin", "vidicore.mode": "bridge",
        "vidicore.resource_name": f"vidiplug-{uuid.uuid4().hex[:8]}",
        "callback.uri": f"s3://test:test@{bucket}/callbacks/", "callback.endpoint_url": s3_endpoint,
        "store.path": str(store), "service.poll_interval_s": 0.2, "service.workers": 2,
        "service.autotrain": False, "service.autotrain_debounce_s": 0.5, "service.status_port": -1,
    }
    values.update({key.replace("__", "."): value for key, value in overrides.items()})
    if values.get("store.url"):
        del values["store.path"]  # a store URL replaces the per-service SQLite file
    return load_settings(None, {}, values)


@pytest.fixture
def start_service(mock_url: str, s3_endpoint: str, callback_bucket: str, tmp_path: Path,
                  dlib_engine: Any) -> Iterator[StartService]:
    """``start_service(instance=None, store=None, engine=None, **overrides)``: a registered, polling ServiceApp.

    Stopped after the test. Services started in one test share the bucket and, unless
    ``vidicore__resource_name`` is given, get a resource name of their own. ``engine``
    defaults to the session's dlib engine, shared.
    """
    started: list[ServiceApp] = []

    def start(instance: str | None = None, store: Path | None = None, engine: Any = None,
              **overrides: object) -> ServiceApp:
        settings = service_settings(mock_url, s3_endpoint, callback_bucket,
                                    store or tmp_path / f"store-{len(started)}.sqlite", **overrides)
        app = ServiceApp(settings, instance=instance, engine=engine or dlib_engine)
        started.append(app)
        app.start()
        return app

    try:
        yield start
    finally:
        for app in reversed(started):
            app.stop()
