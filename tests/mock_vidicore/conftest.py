"""Fixtures: the real mock server as a subprocess on a free port, moto's S3 server, a bucket.

Nothing is patched: tests speak plain HTTP to `python -m mock_vidicore --port 0`
and plain S3 to moto on loopback.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from mock_api import Api, Server, start_server


@pytest.fixture
def bucket(s3: Any) -> str:
    """A fresh bucket per test."""
    name = f"cb-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Iterator[Server]:
    """One mock per test module, with a 1 MiB body limit and a 2 s script limit."""
    running = start_server(tmp_path_factory.mktemp("mock"), "--bridge", "--s3-endpoint", s3_endpoint,
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
