"""Service fixtures: moto's S3 server and mock_vidicore on loopback, and real running services.

Nothing is patched: the service speaks HTTP to the mock, writes callbacks to moto, and the
mock's own QuickJS executor runs them.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from operator_api import Operator
from vidiplug.service.app import ServiceApp
from vidiplug.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
StartService = Callable[..., ServiceApp]


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3(s3_endpoint: str) -> Any:
    """A boto3 S3 client against moto."""
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


@pytest.fixture(scope="module")
def mock_url(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Iterator[str]:
    """`python -m mock_vidicore --port 0` for this module; its URL is the first line it prints."""
    folder = tmp_path_factory.mktemp("mock")
    log_path = folder / "mock.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "mock_vidicore", "--host", "127.0.0.1", "--port", "0",
             "--s3-endpoint", s3_endpoint, "--poll-interval-s", "0.05", "--script-time-limit-s", "30",
             "--data-dir", str(folder / "data")],
            cwd=REPO, stdout=subprocess.PIPE, stderr=log_file, text=True)
    assert process.stdout is not None
    try:
        url = process.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            pytest.fail(f"mock_vidicore did not print its URL: {url!r}\n{log_path.read_text()}")
        yield url
    finally:
        if process.poll() is None:
            process.terminate()
        assert process.wait(timeout=15) == 0, log_path.read_text()
        process.stdout.close()


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
        "vidicore.url": mock_url, "vidicore.user": "admin", "vidicore.password": "admin",
        "vidicore.resource_name": f"vidiplug-{uuid.uuid4().hex[:8]}",
        "callback.uri": f"s3://test:test@{bucket}/callbacks/", "callback.endpoint_url": s3_endpoint,
        "store.path": str(store), "service.poll_interval_s": 0.2, "service.workers": 2,
        "service.autotrain": False, "service.autotrain_debounce_s": 0.5,
    }
    values.update({key.replace("__", "."): value for key, value in overrides.items()})
    return load_settings(None, {}, values)


@pytest.fixture
def start_service(mock_url: str, s3_endpoint: str, callback_bucket: str, tmp_path: Path,
                  dlib_engine: Any) -> Iterator[StartService]:
    """``start_service(instance=None, **overrides)``: a registered, polling ServiceApp (stopped after the test).

    Services started in one test share the bucket and, unless ``vidicore__resource_name``
    is given, get a resource name of their own. The session's dlib engine is shared.
    """
    started: list[ServiceApp] = []

    def start(instance: str | None = None, store: Path | None = None, **overrides: object) -> ServiceApp:
        settings = service_settings(mock_url, s3_endpoint, callback_bucket,
                                    store or tmp_path / f"store-{len(started)}.sqlite", **overrides)
        app = ServiceApp(settings, instance=instance, engine=dlib_engine)
        started.append(app)
        app.start()
        return app

    try:
        yield start
    finally:
        for app in reversed(started):
            app.stop()
