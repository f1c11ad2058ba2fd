"""The real mock_vidicore as a subprocess on a free loopback port, for the client's tests.

Written for tests/vidicore (the mock's own suite has its fixtures in tests/mock_vidicore).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from vidiplug.vidicore.client import VidiCoreClient

REPO = Path(__file__).resolve().parents[2]
USER = "admin"
# Distinctive, with the characters Basic auth and URLs treat specially, so a leak is findable.
PASSWORD = "pw:7f3a@vidi/secret%20"

NewClient = Callable[..., VidiCoreClient]
"""The ``new_client`` fixture: keyword arguments base_url, password, timeout_s, page_size."""


@dataclass
class MockVidiCore:
    """A running mock: process, base URL (without /API), credentials and its log file."""

    process: subprocess.Popen[str]
    url: str
    user: str
    password: str
    log_path: Path

    def stop(self) -> int:
        """SIGTERM, wait, close the stdout pipe; the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=15)
        finally:
            if self.process.stdout is not None:
                self.process.stdout.close()


def start_mock(folder: Path, user: str = USER, password: str = PASSWORD) -> MockVidiCore:
    """Start ``python -m mock_vidicore --port 0`` and read its URL from the first stdout line."""
    log_path = folder / f"mock-{uuid.uuid4().hex[:8]}.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "mock_vidicore", "--host", "127.0.0.1", "--port", "0",
             "--user", user, "--password", password, "--poll-interval-s", "5"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=log_file, text=True)
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    mock = MockVidiCore(process, url, user, password, log_path)
    if not url.startswith("http://127.0.0.1:"):
        mock.stop()
        pytest.fail(f"mock_vidicore did not print its URL: {url!r}\n{log_path.read_text()}")
    return mock


def closed_port() -> int:
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
