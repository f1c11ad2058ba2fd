"""fetch_media: a job's media URI (s3://, file://, http(s)://, absolute path) → a local file.

Storage room: boto3 (through callback_store's client builder) and requests live here; from
vidiplug it imports only errors, settings and logs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

import requests

from vidiplug.errors import StorageError
from vidiplug.logs import redact
from vidiplug.settings import ServiceSettings
from vidiplug.storage.callback_store import build_s3_client, s3_errors
from vidiplug.storage.location import S3Credentials, split_s3_uri

CHUNK_BYTES = 1 << 20
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def fetch_media(uri: str, workdir: Path, *, s3_endpoint_url: str | None = None,
                s3_credentials: S3Credentials | None = None, s3_region: str = "us-east-1",
                http_timeout_s: float = ServiceSettings.media_timeout_s,
                max_bytes: int = ServiceSettings.max_media_bytes) -> Path:
    """The local path of the media at ``uri``, downloading it into ``workdir`` when remote.

    ``file://`` URIs and absolute paths are returned as they are (never copied, so never
    delete them); the file must exist. ``s3://[key:secret@]bucket/key`` is streamed with
    boto3 — credentials in the URI win over ``s3_credentials``; neither means boto3's
    default chain; ``s3_endpoint_url`` names a non-AWS server. ``http(s)://`` is streamed
    with requests. ``http_timeout_s``: seconds to connect or to wait for more data (S3 too).
    ``max_bytes``: a larger download is refused, by its announced length or once it passes
    the limit. The local name comes from the URI's last path segment reduced to letters,
    digits, ``.``, ``_`` and ``-`` (never a path), made unique in ``workdir``.

    Raises StorageError (with credentials redacted from the URI) for a missing file, an
    unsupported scheme, an S3 or HTTP error, a timeout or an oversized download.
    """
    scheme = urlsplit(uri).scheme.lower() if "://" in uri else ""
    if scheme == "file" or (not scheme and uri.startswith("/")):
        return _local(uri, scheme)
    if scheme == "s3":
        return _from_s3(uri, workdir, s3_endpoint_url, s3_credentials, s3_region, http_timeout_s, max_bytes)
    if scheme in ("http", "https"):
        return _from_http(uri, workdir, http_timeout_s, max_bytes)
    raise StorageError(redact(uri), "unsupported media URI; use s3://, file://, http(s):// or an absolute path")


def safe_file_name(remote_path: str) -> str:
    """A local file name from the last segment of a (URL-quoted) remote path; "media" if none is left."""
    last = unquote(remote_path).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", last)[-100:].lstrip("._-")  # the tail keeps the extension
    return name or "media"


def _local(uri: str, scheme: str) -> Path:
    if scheme:
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            raise StorageError(redact(uri), "file:// URIs must name a local file (no host)")
        path = Path(unquote(parts.path))
    else:
        path = Path(uri)
    if not path.is_absolute() or not path.is_file():
        raise StorageError(redact(uri), "no such file", code="NotFound")
    return path


def _from_s3(uri: str, workdir: Path, endpoint_url: str | None, fallback: S3Credentials | None,
             region: str, timeout_s: float, max_bytes: int) -> Path:
    try:
        parts = split_s3_uri(uri)
    except ValueError as exc:  # its message is already redacted: "<uri>: <reason>"
        raise StorageError(redact(uri), str(exc).partition(": ")[2] or "not a valid s3:// URI") from exc
    if not parts.path or parts.path.endswith("/"):
        raise StorageError(redact(uri), "names a folder, not an object")
    where = f"{parts.bucket}/{parts.path}"
    client = build_s3_client(parts.credentials or fallback, endpoint_url=endpoint_url, region=region,
                             connect_timeout_s=min(10.0, timeout_s), read_timeout_s=timeout_s)
    try:
        with s3_errors(parts.bucket, parts.path):
            answer = client.get_object(Bucket=parts.bucket, Key=parts.path)
            body = answer["Body"]
            try:
                _check_size(answer.get("ContentLength"), max_bytes, where)
                return _write(body.iter_chunks(CHUNK_BYTES), workdir, safe_file_name(parts.path), max_bytes, where)
            finally:
                body.close()
    finally:
        client.close()


def _from_http(uri: str, workdir: Path, timeout_s: float, max_bytes: int) -> Path:
    shown = redact(uri)
    try:
        # identity: the bytes counted against max_bytes are the bytes written to disk
        with requests.get(uri, stream=True, timeout=(min(10.0, timeout_s), timeout_s),
                          headers={"Accept-Encoding": "identity"}) as response:
            if response.status_code >= 400:
                raise StorageError(shown, f"HTTP {response.status_code} {response.reason}",
                                   code=str(response.status_code))
            length = response.headers.get("Content-Length", "")
            _check_size(int(length) if length.isdigit() else None, max_bytes, shown)
            name = safe_file_name(urlsplit(uri).path)
            return _write(response.iter_content(CHUNK_BYTES), workdir, name, max_bytes, shown)
    except requests.RequestException as exc:
        raise StorageError(shown, f"{type(exc).__name__}: {redact(str(exc))}") from exc


def _check_size(size: int | None, max_bytes: int, where: str) -> None:
    if size is not None and size > max_bytes:
        raise StorageError(where, f"{size} bytes is over the {max_bytes}-byte limit", code="TooLarge")


def _write(chunks: Iterable[bytes], workdir: Path, name: str, max_bytes: int, where: str) -> Path:
    """Stream ``chunks`` into a new file in ``workdir``; the partial file goes on any failure."""
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        target, handle = _create_unique(workdir, name)
    except OSError as exc:
        raise StorageError(str(workdir), f"cannot create a file here ({exc.strerror or exc})") from exc
    try:
        with handle:
            total = 0
            for chunk in chunks:  # reading may raise the client library's errors: the caller maps them
                total += len(chunk)
                if total > max_bytes:
                    raise StorageError(where, f"more than the {max_bytes}-byte limit", code="TooLarge")
                try:
                    handle.write(chunk)
                except OSError as exc:
                    raise StorageError(str(target), f"cannot write ({exc.strerror or exc})") from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def _create_unique(workdir: Path, name: str) -> tuple[Path, BinaryIO]:
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(1000):
        candidate = workdir / (name if n == 0 else f"{stem}-{n}{suffix}")
        try:
            return candidate, open(candidate, "xb")  # "x": never overwrite, even racing another worker
        except FileExistsError:
            continue
    raise FileExistsError(f"1000 files named like {name}")
