"""Fault-injection helpers for the reliability tests of registration, job failures, secrets and health.

Its fixtures (serve: ``vidiplug serve`` as a real child process; service_app: an in-process
service) reach the tests through tests/reliability/conftest.py, beside the service fixtures
(one mock_vidicore per module, a fresh moto bucket per test). Nothing is patched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from operator_api import Operator
from service_fixtures import StartService
from support import wait_for
from vidiplug.service.app import ServiceApp

# moto takes any credentials; this one is long enough for the log filter to scrub it, and
# appears in no path or word the tests look for.
CALLBACK_SECRET = "moto-Secret-9d2"


def write_config(path: Path, mock_url: str, s3_endpoint: str, bucket: str, store: Path, *,
                 resource: str, password: str = "admin", secret: str = CALLBACK_SECRET, extra: str = "") -> Path:
    """A service config file against the mock and moto; ``extra`` is appended TOML (e.g. a [service] key)."""
    path.write_text(
        f'[vidicore]\nurl = "{mock_url}"\nuser = "admin"\npassword = "{password}"\nresource_name = "{resource}"\n'
        f'mode = "bridge"\n'
        f'[callback]\nuri = "s3://test:{secret}@{bucket}/callbacks/"\nendpoint_url = "{s3_endpoint}"\n'
        f'[store]\npath = "{store}"\n'
        f'[engine]\nname = "dlib"\n'
        f'[service]\npoll_interval_s = 0.2\nautotrain = false\n{extra}', encoding="utf-8")
    return path


def run_vidiplug(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m vidiplug ARGS`` to completion, output captured."""
    return subprocess.run([sys.executable, "-m", "vidiplug", *args], capture_output=True, text=True, timeout=180,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


@dataclass
class Served:
    """A running ``vidiplug serve`` child process and its combined output file."""

    process: subprocess.Popen[str]
    log_path: Path

    def output(self) -> str:
        """Everything it printed so far (stdout and stderr)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_line(self, text: str, timeout_s: float = 120.0) -> str:
        """The first output line containing ``text``, waiting for it; fails the test if the process ends first."""
        def found() -> str | None:
            line = next((ln for ln in self.output().splitlines() if text in ln), None)
            if line is None and self.process.poll() is not None:
                pytest.fail(f"vidiplug serve exited ({self.process.returncode}) before printing {text!r}:\n"
                            f"{self.output()[-3000:]}")
            return line
        line: str = wait_for(found, timeout_s, f"{text!r} in {self.log_path.name}")
        return line

    def stop(self) -> int:
        """SIGTERM and wait; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """``serve(config, name, env=None)``: start ``vidiplug serve`` as a child process (stopped after the test)."""
    started: list[Served] = []

    def start(config: Path, name: str, env: dict[str, str] | None = None) -> Served:
        log_path = tmp_path / f"{name}.log"
        with log_path.open("w") as log:
            process = subprocess.Popen([sys.executable, "-m", "vidiplug", "serve", "--config", str(config),
                                        "--instance", name],
                                       stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                                       env={**os.environ, **(env or {})})
        served = Served(process, log_path)
        started.append(served)
        return served

    try:
        yield start
    finally:
        for served in started:
            served.stop()


def served_resource(operator: Operator, bucket: str, served: Served) -> tuple[str, str]:
    """The vidinet and callback resource ids ``served`` registered (after its "serving" line)."""
    line = served.wait_line("serving as resource")
    resource_id = line.split("serving as resource ")[1].split()[0]
    callback_id = line.split("(callback ")[1].split(",")[0]
    return resource_id, callback_id


class GatedEngine:
    """An engine that stops at its first detection until ``gate`` opens (a job that runs long);
    ``entered`` is set once a detection waits. Handed to ServiceApp through its constructor."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self.info = engine.info
        self.providers = engine.providers
        self.gate = threading.Event()
        self.entered = threading.Event()

    def luma_size(self, width: int, height: int) -> tuple[int, int] | None:
        size: tuple[int, int] | None = self._engine.luma_size(width, height)
        return size

    def detect(self, image: Any, luma: Any = None) -> Any:
        self.entered.set()
        self.gate.wait(timeout=120)
        return self._engine.detect(image, luma)

    def embed(self, image: Any, found: Any) -> Any:
        return self._engine.embed(image, found)


@pytest.fixture
def service_app(start_service: StartService) -> Iterator[StartService]:
    """``service_app(engine=None, **overrides)``: start_service with instance names ``app-N``.

    After the test it opens every GatedEngine's gate, so that start_service can stop the apps.
    """
    started: list[ServiceApp] = []

    def start(engine: Any = None, **overrides: object) -> ServiceApp:
        app = start_service(instance=f"app-{len(started)}", engine=engine, **overrides)
        started.append(app)
        return app

    try:
        yield start
    finally:
        for app in started:
            gate = getattr(app.engine, "gate", None)
            if gate is not None:
                gate.set()
