"""fetch_media against real servers on loopback: local files, moto's S3, a plain HTTP server."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from vidiplug.errors import StorageError
from vidiplug.storage.fetch import fetch_media, safe_file_name
from vidiplug.storage.location import S3Credentials

pytestmark = pytest.mark.timeout(60)
CLIP = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40  # 10 KiB stand-in; fetch never decodes


def _uri_with(credentials: S3Credentials, bucket: str, key: str) -> str:
    secret = quote(credentials.secret_access_key.reveal(), safe="")
    return f"s3://{credentials.access_key_id}:{secret}@{bucket}/{key}"


def test_file_uri_returns_the_file_itself(tmp_path: Path) -> None:
    clip = tmp_path / "my clip.mp4"
    clip.write_bytes(CLIP)

    assert fetch_media(clip.as_uri(), tmp_path / "work") == clip
    assert fetch_media(str(clip), tmp_path / "work") == clip
    assert not (tmp_path / "work").exists()


@pytest.mark.parametrize("uri", ["file:///no/such/clip.mp4", "/no/such/clip.mp4", "file://otherhost/clip.mp4",
                                 "relative/clip.mp4", "ftp://host/clip.mp4"])
def test_missing_local_files_and_other_schemes_raise_storage_error(tmp_path: Path, uri: str) -> None:
    with pytest.raises(StorageError):
        fetch_media(uri, tmp_path)


def test_s3_uri_with_credentials_is_downloaded_into_the_workdir(
        s3_endpoint: str, s3: Any, bucket: str, credentials: S3Credentials, tmp_path: Path) -> None:
    s3.put_object(Bucket=bucket, Key="media/VX-7/clip.mp4", Body=CLIP)

    local = fetch_media(_uri_with(credentials, bucket, "media/VX-7/clip.mp4"), tmp_path, s3_endpoint_url=s3_endpoint)

    assert local == tmp_path / "clip.mp4"
    assert local.read_bytes() == CLIP


def test_s3_credentials_can_be_given_apart_from_the_uri(
        s3_endpoint: str, s3: Any, bucket: str, credentials: S3Credentials, tmp_path: Path) -> None:
    s3.put_object(Bucket=bucket, Key="clip.mp4", Body=CLIP)

    local = fetch_media(f"s3://{bucket}/clip.mp4", tmp_path, s3_endpoint_url=s3_endpoint, s3_credentials=credentials)

    assert local.read_bytes() == CLIP


def test_missing_s3_object_raises_storage_error_without_the_secret(
        s3_endpoint: str, bucket: str, credentials: S3Credentials, tmp_path: Path) -> None:
    with pytest.raises(StorageError) as caught:
        fetch_media(_uri_with(credentials, bucket, "gone.mp4"), tmp_path, s3_endpoint_url=s3_endpoint)

    assert caught.value.code == "NoSuchKey"
    assert f"{bucket}/gone.mp4" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_oversized_s3_object_is_refused_and_leaves_no_file(
        s3_endpoint: str, s3: Any, bucket: str, credentials: S3Credentials, tmp_path: Path) -> None:
    s3.put_object(Bucket=bucket, Key="big.mp4", Body=CLIP)

    with pytest.raises(StorageError) as caught:
        fetch_media(f"s3://{bucket}/big.mp4", tmp_path, s3_endpoint_url=s3_endpoint, s3_credentials=credentials,
                    max_bytes=len(CLIP) - 1)

    assert caught.value.code == "TooLarge"
    assert list(tmp_path.iterdir()) == []


def test_s3_key_cannot_place_the_file_outside_the_workdir(
        s3_endpoint: str, s3: Any, bucket: str, credentials: S3Credentials, tmp_path: Path) -> None:
    s3.put_object(Bucket=bucket, Key="a/../../..%2Fescape.mp4", Body=CLIP)
    workdir = tmp_path / "work"

    local = fetch_media(f"s3://{bucket}/a/../../..%252Fescape.mp4", workdir, s3_endpoint_url=s3_endpoint,
                        s3_credentials=credentials)

    assert local == workdir / "escape.mp4"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def test_http_media_is_streamed_into_the_workdir(http_files: tuple[str, Path], tmp_path: Path) -> None:
    base, folder = http_files
    (folder / "clip.mp4").write_bytes(CLIP)

    local = fetch_media(f"{base}/clip.mp4", tmp_path)

    assert local == tmp_path / "clip.mp4"
    assert local.read_bytes() == CLIP


def test_the_same_name_twice_gives_two_files(http_files: tuple[str, Path], tmp_path: Path) -> None:
    base, folder = http_files
    (folder / "clip.mp4").write_bytes(CLIP)

    first = fetch_media(f"{base}/clip.mp4", tmp_path)
    second = fetch_media(f"{base}/clip.mp4", tmp_path)

    assert (first.name, second.name) == ("clip.mp4", "clip-1.mp4")


def test_http_404_raises_storage_error_with_the_url_redacted(http_files: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = http_files
    url = base.replace("http://", "http://operator:pa55w0rd-xyz@") + "/missing.mp4?token=tok-xyz"

    with pytest.raises(StorageError) as caught:
        fetch_media(url, tmp_path)

    assert caught.value.code == "404"
    assert "missing.mp4" in str(caught.value)
    assert "pa55w0rd-xyz" not in str(caught.value) and "tok-xyz" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("route", ["", "/unannounced"])
def test_oversized_http_media_is_refused_and_leaves_no_file(
        http_files: tuple[str, Path], tmp_path: Path, route: str) -> None:
    base, folder = http_files
    (folder / "big.mp4").write_bytes(CLIP)
    host, _, path = base.partition("//")[2].partition("/")

    with pytest.raises(StorageError) as caught:
        fetch_media(f"http://{host}{route}/{path}/big.mp4", tmp_path, max_bytes=len(CLIP) - 1)

    assert caught.value.code == "TooLarge"
    assert list(tmp_path.iterdir()) == []


def test_http_media_without_a_length_is_downloaded_whole(http_files: tuple[str, Path], tmp_path: Path) -> None:
    base, folder = http_files
    (folder / "clip.mp4").write_bytes(CLIP)
    host, _, path = base.partition("//")[2].partition("/")

    local = fetch_media(f"http://{host}/unannounced/{path}/clip.mp4", tmp_path)

    assert local.read_bytes() == CLIP


def test_http_name_with_traversal_is_sanitised(http_files: tuple[str, Path], tmp_path: Path) -> None:
    base, folder = http_files
    name = f"escape-{folder.name}.mp4"
    (folder.parent / name).write_bytes(CLIP)  # where the server's own path normalisation lands
    workdir = tmp_path / "work"

    local = fetch_media(f"{base}/%2E%2E%2F%2E%2E%2F{name}", workdir)

    assert local == workdir / name
    assert local.read_bytes() == CLIP
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def test_unreachable_http_server_raises_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="ConnectionError"):
        fetch_media("http://127.0.0.1:9/clip.mp4", tmp_path, http_timeout_s=2)


@pytest.mark.parametrize("remote, local", [
    ("clip.mp4", "clip.mp4"),
    ("/a/b/My Clip (1).mp4", "My_Clip_1_.mp4"),
    ("..%2F..%2Fetc%2Fpasswd", "passwd"),
    ("..\\..\\win.ini", "win.ini"),
    ("a/..", "media"),
    ("", "media"),
    (".bashrc", "bashrc"),
    ("nul%00byte.mp4", "nul_byte.mp4"),
    ("x" * 300 + ".mp4", "x" * 96 + ".mp4"),
])
def test_safe_file_name_keeps_only_a_plain_name(remote: str, local: str) -> None:
    assert safe_file_name(remote) == local
