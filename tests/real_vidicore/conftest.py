"""Fixtures of the real-server suite: which VidiCore to probe, and the record of what it answered.

``vidicore_server`` is the only way the tests learn where VidiCore is. With ``VIDICORE_URL``
set it is that server (``VIDICORE_USER`` and ``VIDICORE_PASSWORD`` are then required, and the
callback location comes from ``VIDIPLUG_CALLBACK__*``); without it, the suite checks itself
against mock_vidicore started without ``--bridge`` (as strict as VidiCore about the invented
endpoints) and a moto S3 server, so it runs, and can fail, in CI.

``recorder`` writes every answer (method, path, status, a redacted excerpt of the body) to
``VIDICORE_RECORD`` (default: ``real-vidicore-answers.json`` in pytest's temporary folder);
the path is printed at the end of the run.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests

from mock_vidicore.launch import launch_mock

EXCERPT_CHARS = 2000
CALLBACK_PREFIX = "VIDIPLUG_CALLBACK__"
_S3_CREDENTIALS = re.compile(r"(s3://)[^/@\s\"']+@", re.IGNORECASE)
_VX_ID = re.compile(r"\b[A-Z]{2}-\d+\b")
_WRITTEN: list[Path] = []


@dataclass(frozen=True)
class VidiCoreServer:
    """Where the suite's VidiCore is and how to reach it.

    ``callback``: the callback location as ``VIDIPLUG_CALLBACK__*`` variables (what
    ``load_settings`` reads); ``missing``: the variable the direct workflow lacks, or None.
    ``real``: a server named by ``VIDICORE_URL`` (False: the self-test's mock_vidicore).
    """

    url: str
    user: str
    password: str
    callback: dict[str, str]
    real: bool
    missing: str | None = None

    def secrets(self) -> list[str]:
        """Values that must never reach the record: the password and the S3 credentials."""
        found = [self.password]
        for name, value in self.callback.items():
            if name.endswith(("SECRET_ACCESS_KEY", "ACCESS_KEY_ID")):
                found.append(value)
            if name.endswith("__URI"):
                parts = urlsplit(value)
                found += [unquote(parts.username or ""), unquote(parts.password or ""), parts.username or "",
                          parts.password or ""]
        return sorted({s for s in found if s}, key=len, reverse=True)


@dataclass
class Recorder:
    """What the server answered, written to ``path`` after every answer (a crash keeps what came before).

    ``probes``: every answer to the probes and the test's own calls, in order. ``service``:
    the calls vidiplug made, one entry per method, path (ids as ``VX-*``, query names only)
    and status, with a count and the first answer's excerpt.
    """

    path: Path
    server: VidiCoreServer
    probes: list[dict[str, Any]] = field(default_factory=list)
    service: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    # The service's worker threads answer through the same hooks: one writer at a time.
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def redact(self, text: str) -> str:
        text = _S3_CREDENTIALS.sub(r"\1***@", text)
        for secret in self.server.secrets():
            text = text.replace(secret, "***")
        return text

    def excerpt(self, body: bytes | str | None) -> str:
        if body is None:
            return ""
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
        if len(text) > EXCERPT_CHARS:
            text = text[:EXCERPT_CHARS] + f"... ({len(text)} characters)"
        return self.redact(text)

    def _entry(self, response: requests.Response) -> dict[str, Any]:
        request = response.request
        parts = urlsplit(request.url or "")
        sent = request.body if request.body is not None and len(request.body or b"") <= 65536 else None
        return {"method": request.method, "path": self.redact(unquote(parts.path)),
                "query": self.redact(unquote(parts.query)), "status": response.status_code,
                "content_type": response.headers.get("Content-Type", ""),
                "sent": self.excerpt(sent) if sent is not None else ("(binary upload)" if request.body else ""),
                "body": self.excerpt(response.content if "octet" not in response.headers.get("Content-Type", "")
                                     else b"(binary)")}

    def record(self, probe: str, response: requests.Response) -> None:
        """Append the answer; one that repeats the call before it (a poll) counts there, keeping the latest body."""
        entry = {"probe": probe, **self._entry(response)}
        last = self.probes[-1] if self.probes else None
        same = ("probe", "method", "path", "query", "status")
        if last is not None and all(last[k] == entry[k] for k in same):
            last.update(entry, count=last.get("count", 1) + 1)
        else:
            self.probes.append(entry)
        self.write()

    def record_service(self, response: requests.Response) -> None:
        request = response.request
        parts = urlsplit(request.url or "")
        names = sorted({pair.partition("=")[0] for pair in parts.query.split("&") if pair})
        key = f"{request.method} {_VX_ID.sub('VX-*', unquote(parts.path))}{'?' + '&'.join(names) if names else ''}"
        key = f"{self.redact(key)} -> {response.status_code}"
        if key in self.service:
            self.service[key]["count"] += 1
        else:
            self.service[key] = {"count": 1, **self._entry(response)}
        self.write()

    def hook(self, probe: str | None) -> Callable[..., None]:
        """A requests response hook recording under ``probe`` (None: as a call vidiplug made)."""
        def on_response(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            with self.lock:
                if probe is None:
                    self.record_service(response)
                else:
                    self.record(probe, response)
        return on_response

    def write(self) -> None:
        with self.lock:
            self._write()

    def _write(self) -> None:
        doc = {"written": datetime.now(UTC).isoformat(timespec="seconds"),
               "server": self.redact(self.server.url), "real_server": self.server.real,
               "notes": self.notes, "probes": self.probes, "service_calls": self.service}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _from_environment() -> VidiCoreServer | None:
    url = os.environ.get("VIDICORE_URL", "").strip()
    if not url:
        return None
    lacking = [name for name in ("VIDICORE_USER", "VIDICORE_PASSWORD") if not os.environ.get(name)]
    if lacking:
        pytest.skip(f"VIDICORE_URL is set but {' and '.join(lacking)} {'is' if len(lacking) == 1 else 'are'} not")
    callback = {k: v for k, v in os.environ.items() if k.startswith(CALLBACK_PREFIX)}
    has_location = callback.get(f"{CALLBACK_PREFIX}URI") or callback.get(f"{CALLBACK_PREFIX}BUCKET")
    return VidiCoreServer(url.rstrip("/"), os.environ["VIDICORE_USER"], os.environ["VIDICORE_PASSWORD"],
                          callback, real=True, missing=None if has_location else f"{CALLBACK_PREFIX}URI")


@pytest.fixture(scope="session")
def vidicore_server(request: pytest.FixtureRequest,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[VidiCoreServer]:
    """The server named by ``VIDICORE_URL``, else mock_vidicore without ``--bridge`` beside moto (the self-test)."""
    real = _from_environment()
    if real is not None:
        yield real
        return
    endpoint: str = request.getfixturevalue("s3_endpoint")
    bucket = f"real-check-{uuid.uuid4().hex[:8]}"
    request.getfixturevalue("s3").create_bucket(Bucket=bucket)
    folder = tmp_path_factory.mktemp("mock")
    running = launch_mock(folder, "--s3-endpoint", endpoint, "--poll-interval-s", "0.05",
                          "--script-time-limit-s", "30", "--data-dir", str(folder / "data"),
                          user="admin", password=f"pw-{uuid.uuid4().hex[:10]}")
    try:
        yield VidiCoreServer(running.url, running.user, running.password,
                             {f"{CALLBACK_PREFIX}URI": f"s3://selfcheck-key:selfcheck-secret@{bucket}/callbacks/",
                              f"{CALLBACK_PREFIX}ENDPOINT_URL": endpoint}, real=False)
    finally:
        assert running.stop() == 0, running.log_path.read_text()


@pytest.fixture(scope="session")
def recorder(vidicore_server: VidiCoreServer, tmp_path_factory: pytest.TempPathFactory) -> Recorder:
    """The record of the server's answers (``VIDICORE_RECORD``, else a file in pytest's temporary folder)."""
    named = os.environ.get("VIDICORE_RECORD", "").strip()
    path = Path(named) if named else tmp_path_factory.getbasetemp() / "real-vidicore-answers.json"
    recorder = Recorder(path.resolve(), vidicore_server)
    recorder.notes["not probed"] = (
        "the abort state spelling (needs a running job); whether GET /API/resource/callback masks secrets "
        "(direct mode registers no callback resource); PUT /API/resource/vidinet (nothing is registered)")
    recorder.write()
    _WRITTEN.append(recorder.path)
    return recorder


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for path in _WRITTEN:
        terminalreporter.write_sep("-", "VidiCore's answers")
        terminalreporter.write_line(f"recorded in {path} (send this file to the vidiplug maintainers)")
