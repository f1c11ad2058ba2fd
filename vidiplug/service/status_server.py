"""The status endpoint: ``GET /health`` (JSON) and ``GET /metrics`` (Prometheus text) on a small HTTP server.

Part of the service room. Binds to loopback unless configured otherwise; serves nothing else.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from vidiplug.service.health import HealthReport
from vidiplug.service.metrics import CONTENT_TYPE, ServiceMetrics

log = logging.getLogger("vidiplug.service")


class StatusServer:
    """Serves ``/health`` and ``/metrics`` on ``bind``:``port`` in a daemon thread until ``stop()``.

    ``port`` 0 takes any free port (``url`` says which). ``/health`` answers 200 when the
    report is healthy, else 503, so a load balancer or systemd watchdog can use the status
    code alone. Raises OSError from the constructor when the address cannot be bound.
    """

    def __init__(self, bind: str, port: int, health: Callable[[], HealthReport], metrics: ServiceMetrics) -> None:
        handler = _handler_class(health, metrics)
        self._server = ThreadingHTTPServer((bind, port), handler)
        self._server.daemon_threads = True
        address, bound_port = self._server.server_address[:2]
        host = address.decode() if isinstance(address, bytes | bytearray) else str(address)
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{bound_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="vidiplug-status", daemon=True)

    def start(self) -> None:
        """Start answering requests."""
        self._thread.start()

    def stop(self) -> None:
        """Stop answering and close the socket (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()


def _handler_class(health: Callable[[], HealthReport], metrics: ServiceMetrics) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "vidiplug-status"

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            if path == "/health":
                report = health()
                body = json.dumps(report.to_json(), indent=2).encode("utf-8") + b"\n"
                self._answer(200 if report.healthy else 503, "application/json", body)
            elif path == "/metrics":
                self._answer(200, CONTENT_TYPE, metrics.render())
            else:
                self._answer(404, "text/plain; charset=utf-8", b"not found: try /health or /metrics\n")

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
            log.debug("status endpoint: " + format, *args)

    return Handler
