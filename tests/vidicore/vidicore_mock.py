"""The real mock_vidicore as a subprocess on a free loopback port, for the client's tests.

Written for tests/vidicore (the mock's own suite has its fixtures in tests/mock_vidicore).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from mock_vidicore.launch import LaunchError, RunningMock, launch_mock
from vidiplug.vidicore.client import VidiCoreClient

USER = "admin"
# Distinctive, with the characters Basic auth and URLs treat specially, so a leak is findable.
PASSWORD = "pw:7f3a@vidi/secret%20"

NewClient = Callable[..., VidiCoreClient]
"""The ``new_client`` fixture: keyword arguments base_url, password, timeout_s, page_size."""


MockVidiCore = RunningMock


def start_mock(folder: Path, user: str = USER, password: str = PASSWORD) -> MockVidiCore:
    """Start ``python -m mock_vidicore --port 0`` and read its URL from the first stdout line."""
    try:
        return launch_mock(folder, "--bridge", "--poll-interval-s", "5", user=user, password=password)
    except LaunchError as exc:
        pytest.fail(str(exc))


def closed_port() -> int:
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
