"""moto's S3 server on a free loopback port, for the test suites and ``vidiplug demo``.

The mock's callback executor reads the bundles the service writes there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def local_s3() -> Iterator[str]:
    """moto's S3 server on a free loopback port, stopped on exit; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer  # moto is slow to import: only when a server starts

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
