"""S3Location: parsing callback URIs, normalising prefixes, and never showing the secret."""

from __future__ import annotations

import pytest

from vidiplug.errors import ConfigError
from vidiplug.settings import CallbackSettings, Secret
from vidiplug.storage.location import S3Credentials, S3Location

SECRET = "zq-s3cr3t/x+y"
ENCODED = "zq-s3cr3t%2Fx%2By"


def test_uri_with_credentials_gives_bucket_prefix_and_keys() -> None:
    location = S3Location.parse(f"s3://AKIAKEY:{ENCODED}@example-bucket/folder1/")

    assert (location.bucket, location.prefix) == ("example-bucket", "folder1")
    assert location.credentials is not None
    assert location.credentials.access_key_id == "AKIAKEY"
    assert location.credentials.secret_access_key.reveal() == SECRET


def test_uri_without_credentials_leaves_them_to_boto3() -> None:
    location = S3Location.parse("s3://example-bucket/a/b")

    assert location == S3Location("example-bucket", "a/b", None)


def test_a_bare_plus_in_the_secret_stays_a_plus() -> None:
    location = S3Location.parse("s3://AKIAKEY:abc+def@example-bucket/p")

    assert location.credentials is not None
    assert location.credentials.secret_access_key.reveal() == "abc+def"


@pytest.mark.parametrize("uri", [
    "s3://example-bucket/folder1", "s3://example-bucket/folder1/", "s3://example-bucket/folder1///",
    "s3://example-bucket//folder1/", " s3://example-bucket/folder1/ ", "S3://example-bucket/folder1/",
])
def test_slashes_and_case_are_normalised(uri: str) -> None:
    assert S3Location.parse(uri) == S3Location("example-bucket", "folder1")


@pytest.mark.parametrize("uri", ["s3://example-bucket", "s3://example-bucket/", "s3://example-bucket//"])
def test_bucket_root_has_an_empty_prefix(uri: str) -> None:
    location = S3Location.parse(uri)

    assert location.prefix == ""
    assert location.key_for("VX-1/result.json") == "VX-1/result.json"
    assert location.uri == "s3://example-bucket/"


def test_key_for_joins_prefix_and_name() -> None:
    location = S3Location.parse("s3://example-bucket/callbacks/vidiplug/")

    assert location.key_for("VX-12/result.json") == "callbacks/vidiplug/VX-12/result.json"


def test_uri_drops_the_credentials_and_keeps_the_location() -> None:
    location = S3Location.parse(f"s3://AKIAKEY:{ENCODED}@example-bucket/folder 1/")

    assert location.uri == "s3://example-bucket/folder%201/"
    assert S3Location.parse(location.uri) == S3Location("example-bucket", "folder 1")


def test_uri_with_credentials_round_trips() -> None:
    location = S3Location.parse(f"s3://AKIAKEY:{ENCODED}@example-bucket/folder1/")

    assert S3Location.parse(location.uri_with_credentials()) == location


@pytest.mark.parametrize("show", [repr, str, lambda loc: f"{loc}", lambda loc: repr(loc.credentials),
                                  lambda loc: repr([loc, loc.credentials])])
def test_no_representation_shows_the_secret(show: object) -> None:
    location = S3Location.parse(f"s3://AKIAKEY:{ENCODED}@example-bucket/folder1/")

    text = show(location)  # type: ignore[operator]

    assert "s3cr3t" not in text and ENCODED not in text
    assert "example-bucket" in text or "AKIAKEY" in text


@pytest.mark.parametrize("uri", [
    f"http://AKIAKEY:{ENCODED}@example-bucket/p",          # another scheme
    f"s3://AKIAKEY:{ENCODED}@/p",                         # no bucket
    "s3://AKIAKEY:zq-s3cr3t/x@example-bucket/p",          # '/' in the secret not encoded
    f"s3://AKIAKEY:{ENCODED}@example-bucket/a/../b",      # traversal in the prefix
    f"s3://AKIAKEY:{ENCODED}@example-bucket/p?x=1",       # query string
    f"s3://AKIAKEY:{ENCODED}@bad_bucket!/p",              # invalid bucket name
    f"s3://:{ENCODED}@example-bucket/p",                  # secret without key
    "s3://AKIAKEY@example-bucket/p",                      # key without secret
    f"s3://AKIAKEY:{ENCODED}@example-bucket/a\x00b",      # control character
])
def test_bad_uris_raise_config_error_without_the_secret(uri: str) -> None:
    with pytest.raises(ConfigError) as caught:
        S3Location.parse(uri)

    assert "s3cr3t" not in str(caught.value) and ENCODED not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_settings_in_parts_build_the_same_location_as_a_uri() -> None:
    parts = CallbackSettings(bucket="example-bucket", prefix="/folder1/", access_key_id="AKIAKEY",
                             secret_access_key=Secret(SECRET))
    whole = CallbackSettings(uri=Secret(f"s3://AKIAKEY:{ENCODED}@example-bucket/folder1"))

    assert S3Location.from_settings(parts) == S3Location.from_settings(whole)
    assert S3Location.from_settings(parts).credentials == S3Credentials("AKIAKEY", Secret(SECRET))


def test_settings_without_a_location_raise_config_error() -> None:
    with pytest.raises(ConfigError, match=r"callback.uri or callback.bucket"):
        S3Location.from_settings(CallbackSettings())
