"""A throw-away PostgreSQL server for the tests: initdb into a temporary folder, a free loopback port,
stopped at the end.

Importable as ``postgres_server`` from any test module. Uses Debian's ``postgresql``
package binaries (``/usr/lib/postgresql/<version>/bin``) or ``initdb`` on PATH. PostgreSQL
refuses to run as root, so as root the server runs as the ``postgres`` user (``runuser``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

START_TIMEOUT_S = 120
SERVICE_USER = "postgres"


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (newest Debian version first), or None."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
                      if p.parent.name.isdigit() else 0, reverse=True)
    for folder in versions:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One running server; ``url`` reaches its ``postgres`` database as superuser ``vidiplug``.

    Trust authentication, on loopback only.
    """

    def __init__(self, bindir: Path) -> None:
        self._bindir = bindir
        self._folder = Path(tempfile.mkdtemp(prefix="vidiplug-pg-"))
        self._data = self._folder / "data"
        self._as = ["runuser", "-u", SERVICE_USER, "--"] if os.geteuid() == 0 else []
        if self._as:
            user = pwd.getpwnam(SERVICE_USER)
            os.chown(self._folder, user.pw_uid, user.pw_gid)
        self.port = _free_port()
        self.url = f"postgresql://vidiplug@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=START_TIMEOUT_S,
                              stdin=subprocess.DEVNULL, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> None:
        """initdb and start; raises RuntimeError with PostgreSQL's own message when either fails."""
        self._run(str(self._bindir / "initdb"), "-D", str(self._data), "-U", "vidiplug", "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self._folder} -c fsync=off"
                   " -c synchronous_commit=off -c full_page_writes=off")
        self._run(str(self._bindir / "pg_ctl"), "-D", str(self._data), "-l", str(self._folder / "server.log"),
                  "-w", "-t", str(START_TIMEOUT_S), "-o", options, "start")

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder."""
        try:
            if (self._data / "postmaster.pid").exists():
                self._run(str(self._bindir / "pg_ctl"), "-D", str(self._data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)

    @contextmanager
    def database(self) -> Iterator[str]:
        """A new empty database for one test; its URL. Dropped afterwards (connections forced off)."""
        name = f"test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"postgresql://vidiplug@127.0.0.1:{self.port}/{name}"
        finally:
            with psycopg.connect(self.url, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
