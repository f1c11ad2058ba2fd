"""Fault injection for the reliability tests: an HTTP proxy that fails chosen requests, and the service fixtures.

FaultProxy stands between the service and a real server (mock_vidicore or moto's S3) on
loopback and forwards every request, except those a test told it to fail: dropped without
an answer (the connection closes, as when a server dies mid-call), answered 503, or
forwarded and then dropped (the call arrived, its answer was lost). Failures are counted,
not timed, so a "blip" is exactly as long as the test says. Nothing is patched.

Its fixtures (vidicore_proxy, s3_proxy) reach the tests through tests/reliability/conftest.py.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from operator_api import Operator

# Retries that give up within a second: a fault meant to outlast them does so at once.
QUICK_RETRIES: dict[str, object] = {"service__retry_window_s": 0.5, "service__retry_backoff_s": 0.05,
                                    "service__retry_max_backoff_s": 0.1}
# Retries that outlast any counted blip of a test, with short pauses.
PATIENT_RETRIES: dict[str, object] = {"service__retry_window_s": 60.0, "service__retry_backoff_s": 0.05,
                                      "service__retry_max_backoff_s": 0.2}
DROP = "drop"  # close the connection without answering
UNAVAILABLE = "503"  # answer 503 Service Unavailable
LOSE_ANSWER = "lose"  # forward the request, then close the connection without passing the answer on
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "expect", "upgrade", "te"}


@dataclass
class Fault:
    """Fail the next ``times`` requests (None: every one) whose method is ``method`` and path matches ``path``."""

    method: str
    path: re.Pattern[str]
    how: str
    times: int | None


class FaultProxy:
    """An HTTP/1.1 proxy on a free loopback port in front of ``upstream`` (``http://host:port``).

    ``url`` is where clients connect. ``fail(...)`` adds a fault; ``heal()`` removes them
    all. ``failed`` lists ``"METHOD /path how"`` for every request failed on purpose, in
    order, and ``forwarded`` the ``"METHOD /path"`` of every request passed on.
    """

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        assert parts.hostname is not None and parts.port is not None
        self._upstream = (parts.hostname, parts.port)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.failed: list[str] = []
        self.forwarded: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    def fail(self, method: str, path: str, how: str = DROP, times: int | None = None) -> Fault:
        """Fail requests ``method`` whose path (query included) matches the regex ``path``; see the class."""
        fault = Fault(method.upper(), re.compile(path), how, times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def heal(self) -> None:
        """Forward everything from now on."""
        with self._lock:
            self._faults.clear()

    def close(self) -> None:
        """Stop listening and wait for the serving thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _decide(self, method: str, path: str) -> str | None:
        """The way this request fails, or None to forward it; counts the fault down."""
        with self._lock:
            for fault in self._faults:
                if fault.method == method and fault.path.search(path) and fault.times != 0:
                    if fault.times is not None:
                        fault.times -= 1
                    self.failed.append(f"{method} {path} {fault.how}")
                    return fault.how
            self.forwarded.append(f"{method} {path}")
        return None

    def _forward(self, method: str, path: str, headers: list[tuple[str, str]],
                 body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self._upstream, timeout=120)
        try:
            connection.request(method, path, body=body or None, headers=dict(headers))
            answer = connection.getresponse()
            data = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}]
            return answer.status, answer.reason, kept, data
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
                """Quiet: the servers behind the proxy log every request already."""

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        chunk = self.rfile.read(size)
                        self.rfile.readline()
                        if size == 0:
                            break
                        chunks.append(chunk)
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _drop(self) -> None:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

            def _handle(self) -> None:
                body = self._body()
                how = proxy._decide(self.command, self.path)
                if how == DROP:
                    self._drop()
                    return
                if how == UNAVAILABLE:
                    message = b"fault injected: service unavailable"
                    self.send_response(503)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(message)))
                    self.end_headers()
                    self.wfile.write(message)
                    return
                headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"content-length"}]
                headers.append(("Content-Length", str(len(body))))
                status, reason, answer_headers, data = proxy._forward(self.command, self.path, headers, body)
                if how == LOSE_ANSWER:
                    self._drop()
                    return
                self.send_response(status, reason)
                for key, value in answer_headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        return Handler


@pytest.fixture
def vidicore_proxy(mock_url: str) -> Iterator[FaultProxy]:
    """A FaultProxy in front of the module's mock_vidicore."""
    proxy = FaultProxy(mock_url)
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def s3_proxy(s3_endpoint: str) -> Iterator[FaultProxy]:
    """A FaultProxy in front of the session's moto S3 server."""
    proxy = FaultProxy(s3_endpoint)
    try:
        yield proxy
    finally:
        proxy.close()


def fingerprints_shown(operator: Operator, item_id: str) -> set[str]:
    """The fingerprints (``adu_av_valueId``) the item's face metadata shows."""
    found: set[str] = set()
    for span in operator.metadata(item_id).get("timespan", []) or []:
        for group in span.get("group", []) or []:
            if str(group.get("name", "")).startswith("adu_face_"):
                for value in group.get("group", []) or []:
                    found.update(str(v["value"]) for f in value.get("field", []) or []
                                 if f.get("name") == "adu_av_valueId" for v in f.get("value", []) or [])
    return found
