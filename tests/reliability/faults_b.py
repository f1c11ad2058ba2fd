"""Fault-injection helpers for the reliability tests of registration, job failures, secrets and health.

Fixtures here are imported by the test modules that use them (this folder has no conftest
of its own): one mock_vidicore per module on loopback, a fresh moto bucket per test, and
``vidiplug serve`` as a real child process. Nothing is patched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_vidicore.launch import launch_mock
from support import wait_for
from vidiplug.service.app import ServiceApp
from vidiplug.settings import Settings, load_settings

TERMINAL = ("FINISHED", "FINISHED_WARNING", "FAILED_TOTAL", "ABORTED")
# moto takes any credentials; this one is long enough for the log filter to scrub it, and
# appears in no path or word the tests look for.
CALLBACK_SECRET = "moto-Secret-9d2"


@pytest.fixture(scope="module")
def mock_url(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Iterator[str]:
    """`python -m mock_vidicore --port 0` for this module, running callbacks from moto."""
    folder = tmp_path_factory.mktemp("mock")
    running = launch_mock(folder, "--s3-endpoint", s3_endpoint, "--poll-interval-s", "0.05",
                          "--script-time-limit-s", "30", "--data-dir", str(folder / "data"))
    try:
        yield running.url
    finally:
        assert running.stop() == 0, running.log_path.read_text()


@pytest.fixture
def callback_bucket(s3: Any) -> str:
    """A fresh, empty bucket for one test's callback location."""
    bucket = f"cb-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture
def api(mock_url: str) -> Iterator[Api]:
    """The operator's side of the mock's /API."""
    client = Api(mock_url)
    try:
        yield client
    finally:
        client.session.close()


def settings_for(mock_url: str, s3_endpoint: str, bucket: str, store: Path, **overrides: object) -> Settings:
    """Service settings against the mock and moto; ``overrides`` are ``section__key=value``."""
    values: dict[str, object] = {
        "vidicore.url": mock_url, "vidicore.user": "admin", "vidicore.password": "admin",
        "vidicore.resource_name": f"vidiplug-{uuid.uuid4().hex[:8]}",
        "callback.uri": f"s3://test:test@{bucket}/callbacks/", "callback.endpoint_url": s3_endpoint,
        "store.path": str(store), "service.poll_interval_s": 0.2, "service.workers": 2,
        "service.autotrain": False, "service.status_port": -1,
    }
    values.update({key.replace("__", "."): value for key, value in overrides.items()})
    return load_settings(None, {}, values)


@dataclass
class Api:
    """mock_vidicore's /API as an operator uses it (plain requests, nothing from vidiplug)."""

    base_url: str
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.session.auth = ("admin", "admin")

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        """Send with JSON accepted, check the status, return the parsed body (or None)."""
        kwargs.setdefault("timeout", 30)
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        response = self.session.request(method, f"{self.base_url}/API/{path}", headers=headers, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content and "json" in response.headers.get("Content-Type", "") else None

    def resources(self, kind: str, url: str) -> list[str]:
        """Ids of the ``kind`` resources whose url (vidinet) or uri (callback) is ``url``."""
        doc = self.call("GET", f"resource/{kind}") or {}
        key = "url" if kind == "vidinet" else "uri"
        return [str(r["id"]) for r in doc.get("resource", []) or [] if r.get(kind, {}).get(key) == url]

    def collections_named(self, name: str) -> list[str]:
        """Ids of the collections called exactly ``name``."""
        found = self.call("PUT", "collection", json={"text": [{"value": name}]}) or {}
        return [str(c["id"]) for c in found.get("collection", []) or [] if c.get("name") == name]

    def import_file(self, path: Path) -> str:
        """A new item holding ``path`` (placeholder + raw upload); its id."""
        item_id = str(self.call("POST", "import/placeholder", params={"container": "1"})["id"])
        self.call("POST", f"import/placeholder/{item_id}/container/raw", params={"filename": path.name},
                  data=path.read_bytes(), headers={"Content-Type": "application/octet-stream"})
        return item_id

    def analyze(self, item_id: str, resource_id: str, callback_id: str, **params: str) -> str:
        """Start an analyze job; its id."""
        query = [("resourceId", resource_id), ("callbackId", callback_id)]
        query += [("jobmetadata", f"cognitive_service_{k}={v}") for k, v in params.items()]
        return str(self.call("POST", f"item/{item_id}/analyze", params=query, json={})["jobId"])

    def job(self, job_id: str) -> dict[str, Any]:
        """The JobDocument of ``job_id``."""
        doc: dict[str, Any] = self.call("GET", f"job/{job_id}", params={"metadata": "true"})
        return doc

    def wait_job(self, job_id: str, timeout_s: float = 240.0) -> dict[str, Any]:
        """The job once it reached a terminal state."""
        def ended() -> dict[str, Any] | None:
            job = self.job(job_id)
            return job if job["status"] in TERMINAL else None
        job: dict[str, Any] = wait_for(ended, timeout_s, f"job {job_id} to end")
        return job


def write_config(path: Path, mock_url: str, s3_endpoint: str, bucket: str, store: Path, *,
                 resource: str, password: str = "admin", secret: str = CALLBACK_SECRET, extra: str = "") -> Path:
    """A service config file against the mock and moto; ``extra`` is appended TOML (e.g. a [service] key)."""
    path.write_text(
        f'[vidicore]\nurl = "{mock_url}"\nuser = "admin"\npassword = "{password}"\nresource_name = "{resource}"\n'
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


def job_data(job: dict[str, Any]) -> dict[str, str]:
    """A JobDocument's data as a dict."""
    return {entry["key"]: entry["value"] for entry in job.get("data", []) or []}


def served_resource(api: Api, bucket: str, served: Served) -> tuple[str, str]:
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
def service_app(mock_url: str, s3_endpoint: str, callback_bucket: str, tmp_path: Path,
                dlib_engine: Any) -> Iterator[Callable[..., ServiceApp]]:
    """``service_app(engine=None, **overrides)``: a started in-process ServiceApp (stopped after the test)."""
    started: list[ServiceApp] = []

    def start(engine: Any = None, **overrides: object) -> ServiceApp:
        settings = settings_for(mock_url, s3_endpoint, callback_bucket, tmp_path / f"store-{len(started)}.sqlite",
                                **overrides)
        app = ServiceApp(settings, instance=f"app-{len(started)}", engine=engine or dlib_engine)
        started.append(app)
        app.start()
        return app

    try:
        yield start
    finally:
        for app in reversed(started):
            gate = getattr(app.engine, "gate", None)
            if gate is not None:
                gate.set()
            app.stop()
