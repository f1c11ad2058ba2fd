"""Start ``python -m mock_vidicore`` in a child process on a free loopback port, and stop it.

For the test suites and ``vidiplug demo``: the mock runs in its own process (as VidiCore
would), prints its URL as the first line on stdout, and logs to a file.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

STOP_TIMEOUT_S = 15.0


class LaunchError(RuntimeError):
    """The mock did not start: the message names its log file and holds its tail."""


@dataclass
class RunningMock:
    """A running mock: its process, base URL (without /API), credentials and log file."""

    process: subprocess.Popen[str]
    url: str
    user: str
    password: str
    log_path: Path

    def stop(self) -> int:
        """SIGTERM, wait (SIGKILL after a while), close the stdout pipe; the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
        finally:
            if self.process.stdout is not None:
                self.process.stdout.close()


def launch_mock(folder: Path, *extra: str, user: str = "admin", password: str = "admin") -> RunningMock:
    """Start the mock with ``extra`` command-line options, logging to a new file in ``folder``.

    Raises LaunchError, with the log's tail, when it does not print a loopback URL.
    """
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"mock-vidicore-{uuid.uuid4().hex[:8]}.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "mock_vidicore", "--host", "127.0.0.1", "--port", "0",
             "--user", user, "--password", password, *extra],
            stdout=subprocess.PIPE, stderr=log_file, stdin=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    running = RunningMock(process, url, user, password, log_path)
    if not url.startswith("http://127.0.0.1:"):
        running.stop()
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise LaunchError(f"mock_vidicore did not print its URL (got {url!r}); log {log_path}:\n{tail}")
    return running
