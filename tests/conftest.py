"""Shared fixtures: the shared real-data folder, and per test session one dlib engine, one moto S3 server
and one PostgreSQL server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from mock_vidicore.moto_s3 import local_s3
from postgres_server import PostgresServer, find_bindir
from vidiplug.engine.dlib import DlibEngine

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """../shared/data beside the repository (the MANIFEST lists who appears where)."""
    if not (DATA / "MANIFEST.md").is_file():
        pytest.fail(f"shared test data not found at {DATA}")
    return DATA


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """URL of one moto S3 server on a free loopback port, for the whole session."""
    with local_s3() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def s3(s3_endpoint: str) -> Iterator[Any]:
    """A test-side boto3 client to arrange and inspect buckets (not the code under test)."""
    client = boto3.session.Session().client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test")
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def dlib_engine() -> DlibEngine:
    """The offline engine that works right after install."""
    return DlibEngine()


@pytest.fixture
def hamilton_clip(data_dir: Path) -> Path:
    """10 s, 640x360: Lin-Manuel Miranda on screen ~3.5-8.0 s (MANIFEST)."""
    return data_dir / "face_recognition/examples/short_hamilton_clip.mp4"


@pytest.fixture
def hamilton_gallery(tmp_path: Path, data_dir: Path) -> Path:
    """A folder gallery with the clip's reference photos (Lin-Manuel Miranda, Alex Lacamoire)."""
    root = tmp_path / "gallery"
    for name, rel in [
        ("Lin-Manuel Miranda", "face_recognition/examples/lin-manuel-miranda.png"),
        ("Alex Lacamoire", "face_recognition/examples/alex-lacamoire.png"),
    ]:
        (root / name).mkdir(parents=True)
        (root / name / Path(rel).name).symlink_to(data_dir / rel)
    return root


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server on a free loopback port for the session (data in a temporary folder).

    Without PostgreSQL's binaries the tests that need it are skipped, except in CI
    (``CI=true``), where that is a failure: ``.ci/run`` installs Debian's ``postgresql``.
    """
    bindir = find_bindir()
    if bindir is None:
        reason = "PostgreSQL server binaries not found (apt-get install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must test the PostgreSQL store")
        pytest.skip(reason)
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty identity store's address: a SQLite file, or a fresh database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.sqlite")
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with server.database() as url:
        yield url
