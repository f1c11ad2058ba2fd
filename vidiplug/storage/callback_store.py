"""CallbackStore: the one writer of callback files to S3 — a job's data files first, its scripts last.

Storage room: with fetch.py the only code that imports boto3/botocore; imports only errors, settings, logs."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from vidiplug.errors import StorageError, StorageUnavailable
from vidiplug.logs import redact
from vidiplug.names import SAFE_NAME_RULE, is_safe_name
from vidiplug.settings import CallbackSettings
from vidiplug.storage.location import S3Credentials, S3Location

S3Client = Any  # botocore builds the client class at run time; no static type to name
# S3 error codes that say "not now" rather than "never" (besides any HTTP status of 500 and above).
TRANSIENT_CODES = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError",
                             "ServiceUnavailable", "RequestLimitExceeded"})


class BundleFile(Protocol):
    """What put_bundle needs of a file; the callbacks room's own type fits without importing us."""

    @property
    def name(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def content_type(self) -> str: ...
    @property
    def is_script(self) -> bool: ...


def build_s3_client(credentials: S3Credentials | None, *, endpoint_url: str | None = None,
                    region: str = "us-east-1", connect_timeout_s: float = 10.0,
                    read_timeout_s: float = 60.0, max_retries: int = 3) -> S3Client:
    """A boto3 S3 client (thread-safe) with explicit timeouts and botocore's standard-mode retries.

    ``credentials`` None uses boto3's default chain. ``endpoint_url``: a non-AWS server
    (MinIO, moto), addressed path-style. ``max_retries``: retries botocore makes itself
    after a failed call (0 for a caller that retries with its own backoff, as the service
    does). Raises StorageError when boto3 refuses the setup.
    """
    config = Config(connect_timeout=connect_timeout_s, read_timeout=read_timeout_s,
                    retries={"max_attempts": max_retries, "mode": "standard"},
                    s3={"addressing_style": "path" if endpoint_url else "auto"})
    key_id = None if credentials is None else credentials.access_key_id
    secret = None if credentials is None else credentials.secret_access_key.reveal()
    try:
        # A private Session: boto3's default session is shared module state, unsafe across threads.
        return boto3.session.Session().client("s3", endpoint_url=endpoint_url, region_name=region,
                                              config=config, aws_access_key_id=key_id,
                                              aws_secret_access_key=secret)
    except (BotoCoreError, ValueError) as exc:
        raise StorageError(redact(endpoint_url or f"s3 ({region})"), redact(str(exc))) from exc


@contextmanager
def s3_errors(bucket: str, key: str) -> Iterator[None]:
    """Translate any boto3/botocore exception inside the block to StorageError("bucket/key: code").

    No connection, a timeout, an HTTP status of 500 or more and throttling codes raise
    StorageUnavailable (worth retrying); everything else StorageError.
    """
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = str(error.get("Code") or status or "Unknown")
        message = redact(str(error.get("Message") or ""))
        transient = code in TRANSIENT_CODES or (isinstance(status, int) and status >= 500)
        kind = StorageUnavailable if transient else StorageError
        raise kind(f"{bucket}/{key}", f"{code} ({message})" if message else code, code=code) from exc
    except BotoCoreError as exc:
        code = type(exc).__name__
        kind = StorageUnavailable if isinstance(exc, (BotoConnectionError, HTTPClientError)) else StorageError
        raise kind(f"{bucket}/{key}", f"{code}: {redact(str(exc))}", code=code) from exc


class CallbackStore:
    """Writes, lists and deletes the files of callback bundles under ``location``.

    Keys are ``<prefix>/<job_id>/<name>``. Owns one boto3 client (thread-safe: one store
    serves every worker); ``client`` hands in a built one instead, which the store then does
    not close. ``on_uploaded(key)`` is called after each object is written, in upload order
    (a seam for tests and progress logs). ``connect_timeout_s``/``read_timeout_s`` bound
    every S3 call; ``max_retries`` as for build_s3_client. Every failure raises StorageError
    naming the bucket/key and S3 error code (StorageUnavailable when a retry may succeed).
    """

    def __init__(self, location: S3Location, *, endpoint_url: str | None = None, region: str = "us-east-1",
                 client: S3Client | None = None, connect_timeout_s: float = 10.0,
                 read_timeout_s: float = 60.0, on_uploaded: Callable[[str], None] | None = None,
                 max_retries: int = 3) -> None:
        self.location = location
        self._owns_client = client is None
        self._client = client if client is not None else build_s3_client(
            location.credentials, endpoint_url=endpoint_url, region=region,
            connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s, max_retries=max_retries)
        self._on_uploaded = on_uploaded

    @classmethod
    def from_settings(cls, settings: CallbackSettings, **kwargs: Any) -> CallbackStore:
        """The store ``settings`` describe (location, endpoint, region); ``kwargs`` as for the class."""
        return cls(S3Location.from_settings(settings), endpoint_url=settings.endpoint_url,
                   region=settings.region, **kwargs)

    def put_bundle(self, job_id: str, files: Sequence[BundleFile]) -> list[str]:
        """Upload a job's bundle: every data file, then every script, each group in given order.

        A callback executor watching the job's folder therefore never sees a script before
        the data it reads. All names are checked before anything is uploaded. Returns the
        keys in upload order. Raises StorageError for a hostile or duplicate name, a
        misnamed script or data file, or a failed upload (files already written stay; the
        caller may delete_job_files).
        """
        folder = self._job_folder(job_id)
        where = f"{self.location.bucket}/{self.location.key_for(folder)}"
        seen: set[str] = set()
        for item in files:
            # One level of sub-folders is allowed (faces/<fingerprint>.jpg); each part is checked.
            for part in item.name.split("/"):
                _check_name(part, where)
            if item.name in seen:
                raise StorageError(where + item.name, "duplicate file name")
            if item.is_script != item.name.endswith(".xml"):
                reason = "scripts must end in .xml" if item.is_script else "data files must not end in .xml"
                raise StorageError(where + item.name, reason)
            seen.add(item.name)
        ordered = [f for f in files if not f.is_script] + [f for f in files if f.is_script]
        return [self._put(folder + item.name, item.data, item.content_type) for item in ordered]

    def list_job_files(self, job_id: str) -> list[str]:
        """The names of the files in a job's folder, sorted."""
        full = self.location.key_for(self._job_folder(job_id))
        return sorted(key[len(full):] for key in self._keys(full))

    def delete_job_files(self, job_id: str) -> int:
        """Delete every file in a job's folder (and nothing outside it); returns how many."""
        folder = self.location.key_for(self._job_folder(job_id))
        keys = self._keys(folder)
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": key} for key in keys[start:start + 1000]]
            with s3_errors(self.location.bucket, folder):
                answer = self._client.delete_objects(Bucket=self.location.bucket,
                                                     Delete={"Objects": batch, "Quiet": True})
            for error in answer.get("Errors", []):
                code = str(error.get("Code", "Unknown"))
                raise StorageError(f"{self.location.bucket}/{error.get('Key', folder)}", code, code=code)
        return len(keys)

    def put_object(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        """Write ``data`` at ``key`` (relative to the location's prefix); returns the full key."""
        return self._put(self._relative(key), data, content_type)

    def get_object(self, key: str) -> bytes:
        """The bytes at ``key`` (relative to the location's prefix)."""
        full = self.location.key_for(self._relative(key))
        with s3_errors(self.location.bucket, full):
            body = self._client.get_object(Bucket=self.location.bucket, Key=full)["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()

    def check(self) -> None:
        """Prove the location is writable (put then delete a probe object) or raise StorageError."""
        key = self.put_object("vidiplug-check.txt", b"vidiplug can write here\n", "text/plain")
        with s3_errors(self.location.bucket, key):
            self._client.delete_object(Bucket=self.location.bucket, Key=key)

    def close(self) -> None:
        """Close the client's connections (only when the store built the client)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> CallbackStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CallbackStore({self.location!r})"

    def _job_folder(self, job_id: str) -> str:
        """``<job_id>/`` relative to the location, checked like a file name."""
        _check_name(job_id, self.location.bucket, what="job id")
        return f"{job_id}/"

    def _relative(self, key: str) -> str:
        for part in key.split("/"):
            _check_name(part, f"{self.location.bucket}/{self.location.prefix}")
        return key

    def _put(self, relative: str, data: bytes, content_type: str) -> str:
        full = self.location.key_for(relative)
        with s3_errors(self.location.bucket, full):
            self._client.put_object(Bucket=self.location.bucket, Key=full, Body=data, ContentType=content_type)
        if self._on_uploaded is not None:
            self._on_uploaded(full)
        return full

    def _keys(self, folder: str) -> list[str]:
        """Every full key starting with ``folder`` (a full key ending in ``/``)."""
        keys: list[str] = []
        with s3_errors(self.location.bucket, folder):
            for page in self._client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.location.bucket, Prefix=folder):
                keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys


def _check_name(name: str, where: str, what: str = "file name") -> None:
    # File names and job ids are built by our own code (fingerprint ids, VX-12), so a strict
    # whitelist costs nothing and keeps "/", "..", control characters and quotes out of keys.
    if not is_safe_name(name):
        raise StorageError(where, f"refused {what} {redact(ascii(name))}: {SAFE_NAME_RULE}")
