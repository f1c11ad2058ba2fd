"""Fixtures: one real mock_vidicore per session, clients that are always closed, a configured service.

Nothing is patched: the client speaks plain HTTP to the mock on loopback.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import HOSTILE_NAMES
from vidicore_mock import MockVidiCore, NewClient, start_mock
from vidiplug.vidicore.client import VidiCoreClient


@pytest.fixture(scope="session")
def mock_vidicore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockVidiCore]:
    """The mock shared by the session's tests; each test makes its own uniquely named entities."""
    running = start_mock(tmp_path_factory.mktemp("vidicore"))
    try:
        yield running
    finally:
        assert running.stop() == 0


@pytest.fixture
def fresh_mock(tmp_path: Path) -> Iterator[MockVidiCore]:
    """A mock of its own, empty, for tests that need a server nobody configured yet."""
    running = start_mock(tmp_path)
    try:
        yield running
    finally:
        assert running.stop() == 0


@pytest.fixture
def new_client(mock_vidicore: MockVidiCore) -> Iterator[NewClient]:
    """Make clients of the session's mock (keyword arguments go to VidiCoreClient); all closed after."""
    made: list[VidiCoreClient] = []

    def make(*, base_url: str | None = None, password: str | None = None, timeout_s: float = 10.0,
             page_size: int = 100) -> VidiCoreClient:
        client = VidiCoreClient(base_url or mock_vidicore.url, mock_vidicore.user,
                                mock_vidicore.password if password is None else password,
                                timeout_s=timeout_s, page_size=page_size)
        made.append(client)
        return client

    try:
        yield make
    finally:
        for client in made:
            client.close()


@pytest.fixture
def client(new_client: NewClient) -> VidiCoreClient:
    """A client of the session's mock."""
    return new_client()


@pytest.fixture(scope="session")
def service_id(mock_vidicore: MockVidiCore) -> str:
    """A COGNITIVE_SERVICE resource with the face configuration applied (fields exist)."""
    with VidiCoreClient(mock_vidicore.url, mock_vidicore.user, mock_vidicore.password) as setup:
        resource = setup.register_vidinet("vidiplug-test", f"vidinet://{uuid.uuid4()}@svc", "https://svc.example")
        setup.apply_configuration(resource.id)
        return resource.id


@pytest.fixture(scope="session")
def callback_id(mock_vidicore: MockVidiCore) -> str:
    """A callback resource (nothing reads from it: no test hands a job back)."""
    with VidiCoreClient(mock_vidicore.url, mock_vidicore.user, mock_vidicore.password) as setup:
        return setup.register_callback(f"s3://AKIA:cb-secret@bucket-{uuid.uuid4().hex[:8]}/callbacks/").id


@pytest.fixture(params=HOSTILE_NAMES, ids=[f"hostile{i}" for i in range(len(HOSTILE_NAMES))])
def hostile_name(request: pytest.FixtureRequest) -> str:
    """Each hostile name in turn."""
    return str(request.param)
