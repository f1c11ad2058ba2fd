"""CallbackStore against moto's S3 server: upload order, content types, hostile names, deletes, errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from vidiplug.callbacks import CallbackFile
from vidiplug.errors import StorageError, StorageUnavailable
from vidiplug.settings import CallbackSettings, Secret
from vidiplug.storage.callback_store import CallbackStore
from vidiplug.storage.location import S3Credentials, S3Location

pytestmark = pytest.mark.timeout(60)
PREFIX = "callbacks/vidiplug"
SECRET = "cb-s3cr3t/with+plus"
CREDENTIALS = S3Credentials("AKIATESTKEY", Secret(SECRET))

BUNDLE = [  # deliberately mixed: the store must put data first whatever the order given
    CallbackFile("001-metadata.xml", b"<CallbackDocument/>", "application/xml", is_script=True),
    CallbackFile("result.json", b'{"faces": []}', "application/json"),
    CallbackFile("002-import-unknowns.xml", b"<CallbackDocument/>", "application/xml", is_script=True),
    CallbackFile("face-7f3a.jpg", b"\xff\xd8\xff\xe0jpeg", "image/jpeg"),
]
DATA_KEYS = [f"{PREFIX}/VX-12/result.json", f"{PREFIX}/VX-12/face-7f3a.jpg"]
SCRIPT_KEYS = [f"{PREFIX}/VX-12/001-metadata.xml", f"{PREFIX}/VX-12/002-import-unknowns.xml"]


@pytest.fixture
def store(s3_endpoint: str, bucket: str) -> Iterator[CallbackStore]:
    with CallbackStore(S3Location(bucket, PREFIX, CREDENTIALS), endpoint_url=s3_endpoint) as built:
        yield built


def _job_keys(s3: Any, bucket: str, job_id: str) -> list[str]:
    answer = s3.list_objects_v2(Bucket=bucket, Prefix=f"{PREFIX}/{job_id}/")
    return sorted(item["Key"] for item in answer.get("Contents", []))


def test_data_files_are_visible_before_any_script(s3_endpoint: str, bucket: str, s3: Any) -> None:
    seen: list[tuple[str, list[str]]] = []  # (key just written, what a watcher lists right then)
    location = S3Location(bucket, PREFIX, CREDENTIALS)
    with CallbackStore(location, endpoint_url=s3_endpoint,
                       on_uploaded=lambda key: seen.append((key, _job_keys(s3, bucket, "VX-12")))) as store:

        keys = store.put_bundle("VX-12", BUNDLE)

    assert keys == DATA_KEYS + SCRIPT_KEYS
    assert [key for key, _ in seen] == keys
    for _, visible in seen:
        if any(key.endswith(".xml") for key in visible):
            assert set(DATA_KEYS) <= set(visible)


def test_every_file_is_stored_with_its_bytes_and_content_type(store: CallbackStore, s3: Any, bucket: str) -> None:
    store.put_bundle("VX-12", BUNDLE)

    for item in BUNDLE:
        answer = s3.get_object(Bucket=bucket, Key=f"{PREFIX}/VX-12/{item.name}")
        with answer["Body"] as body:
            assert body.read() == item.data
        assert answer["ContentType"] == item.content_type


@pytest.mark.parametrize("name", [
    "../escape.json", "..", "a//b.json", "/abs.json", "back\\slash.json", "", ".hidden.json",
    "nul\x00.json", "new\nline.json", "line\u2028sep.json", 'quote".json', "'); api.delete(); //.json",
    "]]>.json", "</script>.json", "Zoë.json", "x" * 300 + ".json", "a..b.json",
])
def test_hostile_file_names_are_refused_before_anything_is_uploaded(
        store: CallbackStore, s3: Any, bucket: str, name: str) -> None:
    bundle = [CallbackFile("result.json", b"{}", "application/json"), CallbackFile(name, b"{}", "application/json")]

    with pytest.raises(StorageError, match="refused file name"):
        store.put_bundle("VX-12", bundle)

    assert _job_keys(s3, bucket, "VX-12") == []


@pytest.mark.parametrize("job_id", ["", "..", "../VX-1", "VX-1/..", "VX 1", "VX-1\n", "VX-1/x"])
def test_hostile_job_ids_are_refused(store: CallbackStore, job_id: str) -> None:
    with pytest.raises(StorageError, match="refused job id"):
        store.put_bundle(job_id, BUNDLE)


@pytest.mark.parametrize("item, reason", [
    (CallbackFile("run.js", b"x", "application/javascript", is_script=True), "scripts must end in .xml"),
    (CallbackFile("metadata.xml", b"<x/>", "application/xml"), "data files must not end in .xml"),
])
def test_scripts_and_data_files_are_told_apart_by_extension(store: CallbackStore, item: CallbackFile,
                                                            reason: str) -> None:
    with pytest.raises(StorageError, match=reason):
        store.put_bundle("VX-12", [item])


def test_duplicate_names_are_refused(store: CallbackStore) -> None:
    with pytest.raises(StorageError, match="duplicate"):
        store.put_bundle("VX-12", [BUNDLE[1], BUNDLE[1]])


def test_list_job_files_gives_the_names_of_that_job_only(store: CallbackStore) -> None:
    store.put_bundle("VX-12", BUNDLE)
    store.put_bundle("VX-120", BUNDLE[1:2])

    names = store.list_job_files("VX-12")

    assert names == sorted(item.name for item in BUNDLE)


def test_delete_removes_only_that_jobs_files(store: CallbackStore, s3: Any, bucket: str) -> None:
    store.put_bundle("VX-1", BUNDLE)
    store.put_bundle("VX-10", BUNDLE)  # "VX-1" is a string prefix of "VX-10"
    s3.put_object(Bucket=bucket, Key="VX-1/outside-the-prefix.json", Body=b"{}")

    deleted = store.delete_job_files("VX-1")

    assert deleted == len(BUNDLE)
    assert store.list_job_files("VX-1") == []
    assert store.list_job_files("VX-10") == sorted(item.name for item in BUNDLE)
    assert s3.head_object(Bucket=bucket, Key="VX-1/outside-the-prefix.json")["ContentLength"] == 2


def test_put_object_and_get_object_round_trip_under_the_prefix(store: CallbackStore, s3: Any, bucket: str) -> None:
    key = store.put_object("VX-3/state.json", b'{"ok": true}', "application/json")

    assert key == f"{PREFIX}/VX-3/state.json"
    assert store.get_object("VX-3/state.json") == b'{"ok": true}'
    assert s3.head_object(Bucket=bucket, Key=key)["ContentType"] == "application/json"


def test_missing_bucket_raises_storage_error_naming_bucket_and_code(s3_endpoint: str) -> None:
    with (CallbackStore(S3Location("no-such-bucket-4711", PREFIX, CREDENTIALS), endpoint_url=s3_endpoint) as store,
          pytest.raises(StorageError) as caught):
        store.put_bundle("VX-12", BUNDLE)

    assert caught.value.code == "NoSuchBucket"
    assert str(caught.value).startswith(f"no-such-bucket-4711/{PREFIX}/VX-12/result.json: NoSuchBucket")
    assert SECRET not in str(caught.value)


def test_missing_object_raises_storage_error_with_the_code(store: CallbackStore) -> None:
    with pytest.raises(StorageError) as caught:
        store.get_object("VX-404/result.json")

    assert caught.value.code == "NoSuchKey"
    assert f"{PREFIX}/VX-404/result.json" in str(caught.value)


def test_unreachable_server_raises_storage_unavailable(bucket: str) -> None:
    with (CallbackStore(S3Location(bucket, PREFIX, CREDENTIALS), endpoint_url="http://127.0.0.1:9",
                        connect_timeout_s=1, read_timeout_s=1, max_retries=0) as store,
          pytest.raises(StorageUnavailable) as caught):
        store.list_job_files("VX-12")

    assert caught.value.code == "EndpointConnectionError"


def test_a_missing_bucket_is_not_called_transient(s3_endpoint: str) -> None:
    with (CallbackStore(S3Location("no-such-bucket-4712", PREFIX, CREDENTIALS), endpoint_url=s3_endpoint) as store,
          pytest.raises(StorageError) as caught):
        store.put_bundle("VX-12", BUNDLE)

    assert not isinstance(caught.value, StorageUnavailable)


def test_check_writes_and_removes_a_probe(store: CallbackStore, s3: Any, bucket: str) -> None:
    store.check()

    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_store_repr_names_the_location_without_the_secret(store: CallbackStore, bucket: str) -> None:
    assert repr(store) == f"CallbackStore(S3Location('s3://{bucket}/{PREFIX}/'))"
    assert SECRET not in repr(store)


def test_store_from_settings_writes_where_the_settings_say(s3_endpoint: str, bucket: str, s3: Any) -> None:
    settings = CallbackSettings(uri=Secret(f"s3://AKIATESTKEY:cb-s3cr3t%2Fx@{bucket}/{PREFIX}/"),
                                endpoint_url=s3_endpoint)

    with CallbackStore.from_settings(settings) as store:
        store.put_bundle("VX-5", BUNDLE[1:2])

    assert _job_keys(s3, bucket, "VX-5") == [f"{PREFIX}/VX-5/result.json"]


def test_face_crops_may_live_in_a_sub_folder(store: CallbackStore) -> None:
    keys = store.put_bundle("VX-7", [CallbackFile("faces/fp-1.jpg", b"jpeg", "image/jpeg", False),
                                     CallbackFile("010-a.xml", b"<x/>", "application/xml", True)])

    assert keys[0].endswith("VX-7/faces/fp-1.jpg") and keys[1].endswith("VX-7/010-a.xml")
    with pytest.raises(StorageError):
        store.put_bundle("VX-7", [CallbackFile("faces/../x.jpg", b"", "image/jpeg", False)])
