"""VidiCoreClient against the real mock: imports, items, shapes, metadata, search and collections."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from mock_vidicore.launch import launch_mock
from vidicore_mock import NewClient
from vidiplug.errors import MediaError, NotFound, VidiCoreError
from vidiplug.vidicore import VidiCoreClient

PHOTO = "face_recognition/examples/lin-manuel-miranda.png"


def generic(*fields: tuple[str, str]) -> dict[str, Any]:
    """A MetadataDocument (JSON form) with generic field/value pairs."""
    return {"timespan": [{"start": "-INF", "end": "+INF", "field": [
        {"name": name, "value": [{"value": value}]} for name, value in fields]}]}


@pytest.fixture
def photo(data_dir: Path) -> Path:
    """A real photo from the shared data set."""
    return data_dir / PHOTO


def test_imported_image_has_a_file_uri_and_an_original_shape(
    client: VidiCoreClient, service_id: str, photo: Path
) -> None:
    item_id = client.import_placeholder_with_file(photo, generic(("vcs_face_value", "Lin-Manuel Miranda")))

    item = client.get_item(item_id)

    (shape,) = item.shapes
    assert shape.tags == ("original",) and shape.mime_type == "image/png"
    assert item.uris == shape.uris and len(item.uris) == 1
    assert client.item_uris(item_id) == list(item.uris)
    parts = urlsplit(item.uris[0])
    assert parts.scheme == "file"
    assert Path(unquote(parts.path)).read_bytes() == photo.read_bytes()
    assert item.field("originalFilename") == photo.name
    assert item.field("vcs_face_value") == "Lin-Manuel Miranda"


def test_get_item_with_a_tag_reads_that_tags_uris(client: VidiCoreClient, photo: Path) -> None:
    item_id = client.import_placeholder_with_file(photo)

    tagged = client.get_item(item_id, ("uri",), tag="original")
    other = client.get_item(item_id, ("uri", "shape"), tag="no-such-tag")

    assert len(tagged.uris) == 1 and tagged.shapes == ()
    assert (other.uris, other.shapes) == ((), ())


def test_importing_a_missing_file_raises_media_error(client: VidiCoreClient, tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"missing.png"):
        client.import_placeholder_with_file(tmp_path / "missing.png")


def test_shape_metadata_is_set(client: VidiCoreClient, service_id: str, photo: Path, hostile_name: str) -> None:
    item_id = client.import_placeholder_with_file(photo)
    (shape,) = client.get_item(item_id, ("shape",)).shapes

    client.set_shape_metadata(item_id, shape.id, "vcs_face_status", hostile_name)

    (after,) = client.get_item(item_id, ("shape",)).shapes
    assert after.metadata["vcs_face_status"] == hostile_name


def test_metadata_round_trips(client: VidiCoreClient, service_id: str, hostile_name: str) -> None:
    item_id = client.import_placeholder_with_file(Path(__file__))
    document = generic(("vcs_face_value", hostile_name), ("vcs_face_externalId", f"fp-{uuid.uuid4()}"))
    document["timespan"].append({"start": "25@PAL", "end": "50@PAL", "group": [{
        "name": "adu_face_DeepVAKeyframeAnalyzer",
        "field": [{"name": "adu_analyzerId", "value": [{"value": "vidiplug"}]}],
        "group": [{"name": "adu_av_analyzedValue", "field": [
            {"name": "adu_av_value", "value": [{"value": hostile_name}]},
            {"name": "adu_av_confidence", "value": [{"value": "0.93"}]}]}]}]})

    client.put_item_metadata(item_id, document)

    spans = {(s["start"], s["end"]): s for s in client.get_item_metadata(item_id)}
    assert client.get_item(item_id, ("metadata",)).field("vcs_face_value") == hostile_name
    (top,) = spans[("25@PAL", "50@PAL")]["group"]
    (detection,) = top["group"]
    assert {f["name"]: f["value"][0]["value"] for f in detection["field"]} == {
        "adu_av_value": hostile_name, "adu_av_confidence": "0.93"}


def test_an_undefined_field_raises_an_error_with_the_explanation(client: VidiCoreClient) -> None:
    item_id = client.import_placeholder_with_file(Path(__file__))

    with pytest.raises(VidiCoreError, match="no_such_field") as caught:
        client.put_item_metadata(item_id, generic(("no_such_field", "x")))

    assert caught.value.status == 400
    assert str(caught.value).startswith(f"PUT item/{item_id}/metadata: HTTP 400 invalidInput metadata")


def test_search_finds_items_by_field_and_delete_removes_them(client: VidiCoreClient, service_id: str) -> None:
    fingerprint = f"fp-{uuid.uuid4()}"
    item_id = client.import_placeholder_with_file(Path(__file__), generic(("vcs_face_externalId", fingerprint)))

    found = client.search_items("vcs_face_externalId", fingerprint)
    client.delete_item(item_id)

    assert found == [item_id]
    assert client.search_items("vcs_face_externalId", fingerprint) == []
    with pytest.raises(NotFound):
        client.get_item(item_id)


def test_hostile_collection_name_round_trips(client: VidiCoreClient, hostile_name: str) -> None:
    name = hostile_name
    collection_id = client.ensure_collection(name)
    item_id = client.import_placeholder_with_file(Path(__file__))

    again = client.ensure_collection(name)
    client.add_to_collection(collection_id, item_id)

    assert again == collection_id
    assert client.find_collection(name) == collection_id
    assert client.collection_items(collection_id) == [item_id]
    (span,) = client.collection_metadata(collection_id)
    assert {f["name"]: f["value"][0]["value"] for f in span["field"]}["title"] == name


def test_find_collection_ignores_names_that_only_contain_the_name(client: VidiCoreClient) -> None:
    base = f"people-{uuid.uuid4()}"
    client.create_collection(f"{base} archive")
    client.create_collection(f"old {base}")

    assert client.find_collection(base) is None
    assert client.ensure_collection(base) == client.find_collection(base)


def test_collection_items_reads_every_page(new_client: NewClient) -> None:
    client = new_client(page_size=2)
    collection_id = client.create_collection(f"paged-{uuid.uuid4()}")
    item_ids = [client.import_placeholder_with_file(Path(__file__)) for _ in range(5)]
    for item_id in item_ids:
        client.add_to_collection(collection_id, item_id)

    assert client.collection_items(collection_id) == item_ids


def test_remove_from_collection_keeps_the_item(client: VidiCoreClient) -> None:
    collection_id = client.create_collection(f"remove-{uuid.uuid4()}")
    item_id = client.import_placeholder_with_file(Path(__file__))
    client.add_to_collection(collection_id, item_id)

    client.remove_from_collection(collection_id, item_id)

    assert client.collection_items(collection_id) == []
    assert client.get_item(item_id, ("metadata",)).id == item_id
    with pytest.raises(NotFound):
        client.remove_from_collection(collection_id, item_id)


def test_an_import_returns_once_its_job_has_finished_so_the_shape_exists(tmp_path: Path, photo: Path) -> None:
    """VidiCore imports asynchronously; the client waits for the import job (GET job/{id})."""
    running = launch_mock(tmp_path, "--import-delay-s", "0.5", user="admin", password="admin")
    try:
        with VidiCoreClient(running.url, "admin", "admin") as slow:
            item_id = slow.import_placeholder_with_file(photo)

            assert len(slow.get_item(item_id, ("uri",), tag="original").uris) == 1
    finally:
        assert running.stop() == 0
