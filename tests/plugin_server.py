"""A real loopback HTTP plugin server for the "bring your own model" tests (http.server in a thread).

Each path is one kind of plugin; the model's name is the path's last part where the answer
must carry it (``/echo/NAME``). Every request is recorded, in order, with its JSON body.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MARKUP = "<script>alert(1)</script> ]]> </vidiplug> &amp; \"quoted\" \u2028"


def answer_for(name: str, body: dict[str, Any], type_text: str | None = None) -> dict[str, Any]:
    """A valid answer: one result per frame, typed by how many faces the frame had."""
    results = []
    for frame in body.get("frames", []):
        code = frame["timecode"]
        results.append({"id": frame["index"], "type": type_text or f"{len(frame['faces'])} faces",
                        "subType": frame["faces"][0]["name"] if frame["faces"] and frame["faces"][0]["name"] else None,
                        "metaData": json.dumps({"frame": frame["index"]}),
                        "instances": [{"confidence": 0.5, "start": code, "end": code,
                                       "adjustedStart": code, "adjustedEnd": code}]})
    for result in results:
        if result["subType"] is None:
            del result["subType"]
    return {"name": name, "displayName": f"{name} model", "displayType": "CapsuleAndTag", "results": results}


@dataclass
class PluginServer:
    """The running server: ``url(path)``, what it received, and how often each path was hit."""

    port: int
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)
    flaky_failures: int = 2
    huge_bytes: int = 1024 * 1024

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self, prefix: str) -> list[dict[str, Any]]:
        return [body for path, body in self.requests if path.startswith(prefix)]


def _handler(server: PluginServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            kind, _, name = self.path.strip("/").partition("/")
            server.requests.append((self.path, body))
            server.hits[kind] = server.hits.get(kind, 0) + 1
            if kind == "slow":
                server.release.wait(120)  # blocked until the test is over: the client must give up first
                self._json(answer_for(name, body))
            elif kind == "flaky" and server.hits[kind] <= server.flaky_failures:
                self._raw(503, b"busy")
            elif kind == "down":
                self._raw(500, b"broken")
            elif kind == "huge":
                self._json({"name": name, "displayName": "x" * server.huge_bytes, "results": []})
            elif kind == "stream":  # no Content-Length: the size shows only while reading
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                try:
                    self.wfile.write(b'{"name": "' + name.encode() + b'", "displayName": "')
                    for _ in range(server.huge_bytes // 65536 + 2):
                        self.wfile.write(b"x" * 65536)
                    self.wfile.write(b'", "results": []}')
                except (BrokenPipeError, ConnectionResetError):
                    pass
            elif kind == "wrong":
                answer = answer_for(name, body)
                answer["results"] = [{"id": 1, "type": "t", "instances": [{"start": "1:2"}]}]
                self._json(answer)
            elif kind == "missing":
                self._json({"name": name, "displayName": "no results"})
            elif kind == "notjson":
                self._raw(200, b"<html>hello</html>")
            elif kind == "markup":
                self._json(answer_for(name, body, type_text=MARKUP))
            elif kind == "impostor":
                self._json(answer_for(MARKUP, body))
            elif kind == "redirect":
                self.send_response(302)
                self.send_header("Location", server.url(f"/echo/{name}"))
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:  # echo and flaky once it recovers
                self._json(answer_for(name, body))

        def _json(self, value: object) -> None:
            self._raw(200, json.dumps(value).encode(), "application/json")

        def _raw(self, status: int, data: bytes, content_type: str = "text/plain") -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout, an oversized answer): what these plugins test

    return Handler


@contextmanager
def plugin_server() -> Iterator[PluginServer]:
    """Start the server on a free loopback port; stop it (releasing slow requests) afterwards."""
    state = PluginServer(port=0)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, name="plugin-server", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(30)
