"""Fixtures: the real mock server as a subprocess on a free port, moto's S3 server, a bucket.

Nothing is patched: tests speak plain HTTP to `python -m mock_vidicore --port 0`
and plain S3 to moto on loopback.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from mock_api import Api

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    """A running mock: its process, base URL and log file."""

    process: subprocess.Popen[str]
    url: str
    log_path: Path

    def stop(self) -> int:
        """SIGTERM and wait; return the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
        code = self.process.wait(timeout=15)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code


def start_server(tmp: Path, *extra: str) -> Server:
    """Start `python -m mock_vidicore --port 0 ...` and read its URL from stdout's first line."""
    log_path = tmp / f"mock-{uuid.uuid4().hex[:8]}.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "mock_vidicore", "--host", "127.0.0.1", "--port", "0", *extra],
            cwd=REPO, stdout=subprocess.PIPE, stderr=log_file, text=True)
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        process.kill()
        process.wait()
        process.stdout.close()
        pytest.fail(f"mock_vidicore did not print its URL: {url!r}\n{log_path.read_text()}")
    return Server(process, url, log_path)


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
    """One boto3 S3 client against moto."""
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


@pytest.fixture
def bucket(s3: Any) -> str:
    """A fresh bucket per test."""
    name = f"cb-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Iterator[Server]:
    """One mock per test module, with a 1 MiB body limit and a 2 s script limit."""
    running = start_server(tmp_path_factory.mktemp("mock"), "--s3-endpoint", s3_endpoint,
                           "--poll-interval-s", "0.1", "--script-time-limit-s", "2",
                           "--max-body-bytes", str(1024 * 1024))
    try:
        yield running
    finally:
        assert running.stop() == 0


@pytest.fixture
def api(server: Server) -> Iterator[Api]:
    """An authenticated client of the module's mock."""
    client = Api(server.url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def service(server: Server) -> dict[str, str]:
    """A configured cognitive service resource (face declaration applied) on the module's mock."""
    client = Api(server.url)
    try:
        resource = client.json("POST", "resource/vidinet", json={"vidinet": {
            "url": f"vidinet://{uuid.uuid4()}:KEY@svc", "type": "COGNITIVE_SERVICE",
            "endpoint": "https://services.example"}})
        client.json("PUT", f"resource/vidinet/{resource['id']}/configuration")
        return {"resourceId": resource["id"]}
    finally:
        client.close()
