"""Storage fixtures: moto's S3 server and a plain HTTP server on loopback, a fresh bucket per test."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from vidiplug.settings import Secret
from vidiplug.storage.location import S3Credentials

# moto accepts any key; the secret holds "/" and "+" so URIs must encode it.
SECRET = "t0p-s3cr3t/with+plus"
CREDENTIALS = S3Credentials("AKIATESTKEY", Secret(SECRET))


@pytest.fixture
def credentials() -> S3Credentials:
    """The key pair the code under test signs with; the secret holds "/" and "+"."""
    return CREDENTIALS


@pytest.fixture
def bucket(s3: Any) -> str:
    """A new, empty bucket with a unique name."""
    name = f"cb-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


class _Handler(SimpleHTTPRequestHandler):
    """Serves the root folder; /unannounced/<name> sends a file without Content-Length."""

    def do_GET(self) -> None:
        if self.path.startswith("/unannounced/"):
            data = (Path(self.directory) / self.path.split("/", 2)[2]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            self.wfile.write(data)  # HTTP/1.0: the body ends when the connection closes
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on responses, not on the server's log."""


@pytest.fixture(scope="session")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(base URL, served folder) of one HTTP server on a free loopback port."""
    root = tmp_path_factory.mktemp("http-root")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def http_files(http_server: tuple[str, Path]) -> tuple[str, Path]:
    """(base URL, folder) of a fresh sub-folder of the HTTP server's root for this test."""
    base, root = http_server
    name = uuid.uuid4().hex[:12]
    (root / name).mkdir()
    return f"{base}/{name}", root / name
