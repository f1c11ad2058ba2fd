"""Items: placeholder and URI import, raw upload, shapes, URIs, shape metadata, delete."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mock_api import Api, new_item, start_server
from support import wait_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def raw_upload(api: Api, item_id: str, **params: str) -> dict[str, object]:
    result: dict[str, object] = api.json(
        "POST", f"import/placeholder/{item_id}/container/raw", data=PNG,
        params={"filename": "face.png", **params},
        headers={"Content-Type": "application/octet-stream"})
    return result


def test_raw_upload_creates_an_image_shape_with_a_file_uri(api: Api) -> None:
    item_id = new_item(api)

    job = raw_upload(api, item_id)

    assert job["status"] == "STARTED" and job["type"] == "PLACEHOLDER_IMPORT"  # an import is a job
    assert api.json("GET", f"job/{job['jobId']}")["status"] == "FINISHED"
    shape = api.json("GET", f"item/{item_id}", params={"content": "shape"})["shape"][0]
    uri = shape["containerComponent"]["file"][0]["uri"][0]
    assert shape["mimeType"] == "image/png" and shape["tag"] == ["original"]
    assert Path(urlsplit(uri).path).read_bytes() == PNG


def test_original_parameter_names_the_shape_tag(api: Api) -> None:
    item_id = new_item(api)

    raw_upload(api, item_id, original="vcs_face_thumbnail")

    uris = api.json("GET", f"item/{item_id}/uri", params={"tag": "vcs_face_thumbnail"})
    assert uris["hits"] == 1


def test_a_placeholder_takes_only_one_container(api: Api) -> None:
    item_id = new_item(api)
    raw_upload(api, item_id)

    api.json("POST", f"import/placeholder/{item_id}/container/raw", expect=409, data=PNG,
             params={"filename": "again.png"}, headers={"Content-Type": "application/octet-stream"})


def test_import_by_s3_uri_stores_the_uri_without_credentials(api: Api) -> None:
    job = api.json("POST", "import", params={"uri": "s3://KEY:SECRET@media/clips/a.mp4"})
    item_id = next(d["value"] for d in job["data"] if d["key"] == "itemId")

    files = api.json("GET", f"item/{item_id}", params={"content": "uri", "tag": "original"})

    assert files["files"]["uri"] == ["s3://media/clips/a.mp4"]


def test_import_by_file_uri_needs_an_existing_file(api: Api, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\0" * 10)

    api.json("POST", "import", params={"uri": clip.as_uri()})
    api.json("POST", "import", expect=400, params={"uri": (tmp_path / "none.mp4").as_uri()})


def test_placeholder_container_by_uri_attaches_the_file(api: Api) -> None:
    item_id = new_item(api)

    api.json("POST", f"import/placeholder/{item_id}/container",
             params={"uri": "s3://media/x.jpg", "tag": "__png"})

    assert api.json("GET", f"item/{item_id}/uri", params={"tag": "__png", "scheme": "s3"})[
        "uri"] == ["s3://media/x.jpg"]


def test_content_uri_without_tag_or_type_is_refused(api: Api) -> None:
    item_id = new_item(api)

    api.json("GET", f"item/{item_id}", expect=400, params={"content": "uri"})


def test_shape_metadata_is_a_key_value_list(api: Api) -> None:
    item_id = new_item(api)
    raw_upload(api, item_id)
    shape_id = api.json("GET", f"item/{item_id}/shape")["uri"][0]

    api.json("PUT", f"item/{item_id}/shape/{shape_id}/metadata", json={"field": [
        {"key": "vcs_face_method", "value": "INDEXED"}]})
    api.request("PUT", f"item/{item_id}/shape/{shape_id}/metadata/vcs_face_status",
                data="ACTIVE").raise_for_status()

    doc = api.json("GET", f"item/{item_id}/shape/{shape_id}/metadata")
    assert doc["field"] == [{"key": "vcs_face_method", "value": "INDEXED"},
                            {"key": "vcs_face_status", "value": "ACTIVE"}]


def test_deleted_item_is_gone(api: Api) -> None:
    item_id = new_item(api)

    api.request("DELETE", f"item/{item_id}").raise_for_status()

    api.json("GET", f"item/{item_id}", expect=404)


def test_items_are_searchable_by_field_value(api: Api, service: dict[str, str]) -> None:
    item_id = new_item(api, ("vcs_face_externalId", "fp-search-1"))

    found = api.json("PUT", "item", json={"field": [
        {"name": "vcs_face_externalId", "value": [{"value": "fp-search-1"}]}]})

    assert [i["id"] for i in found["item"]] == [item_id]


@pytest.fixture(scope="module")
def slow_imports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A mock whose import jobs take a second, as imports on VidiCore take time."""
    server = start_server(tmp_path_factory.mktemp("slow"), "--import-delay-s", "1")
    api = Api(server.url)
    try:
        yield api
    finally:
        api.close()
        server.stop()


def test_the_shape_of_an_import_exists_only_once_its_job_has_finished(slow_imports: Api) -> None:
    """VidiCore imports asynchronously: a client waits for the import job before touching the shape."""
    api = slow_imports
    job = api.json("POST", "import", params={"uri": "s3://media/faces/a.png", "tag": "vcs_face_thumbnail",
                                              "original": "vcs_face_thumbnail"})
    item_id = next(d["value"] for d in job["data"] if d["key"] == "itemId")

    before = api.json("GET", f"item/{item_id}/shape")
    ended = wait_for(lambda: (lambda j: j if j["status"] == "FINISHED" else None)(
        api.json("GET", f"job/{job['jobId']}")), timeout_s=10)
    after = api.json("GET", f"item/{item_id}/shape", params={"tag": "vcs_face_thumbnail"})

    assert job["status"] == "STARTED" and ended["status"] == "FINISHED"
    assert not before.get("uri") and len(after["uri"]) == 1


def test_original_must_be_one_of_the_tags(api: Api) -> None:
    api.json("POST", "import", expect=400, params={"uri": "s3://media/faces/a.png", "tag": "lowres",
                                                    "original": "vcs_face_thumbnail"})


def test_shape_import_adds_a_tagged_shape_to_an_item_that_has_one_and_delete_removes_it(
        api: Api, tmp_path: Path) -> None:
    item_id = new_item(api)
    raw_upload(api, item_id)
    tracks = tmp_path / "face-tracks.json"
    tracks.write_text('{"version": 1}', encoding="utf-8")

    job = api.json("POST", f"item/{item_id}/shape", params={"uri": tracks.as_uri(), "tag": "vcs_face_tracks"})

    assert job["status"] == "STARTED" and job["type"] == "SHAPE_IMPORT"
    assert api.json("GET", f"job/{job['jobId']}")["status"] == "FINISHED"
    shapes = api.json("GET", f"item/{item_id}", params={"content": "shape"})["shape"]
    assert [s["tag"] for s in shapes] == [["original"], ["vcs_face_tracks"]]
    assert shapes[1]["mimeType"] == "application/json"
    assert api.json("GET", f"item/{item_id}/shape", params={"tag": "vcs_face_tracks"})["uri"] == [shapes[1]["id"]]

    api.json("DELETE", f"item/{item_id}/shape/{shapes[1]['id']}")
    left = api.json("GET", f"item/{item_id}", params={"content": "shape"})["shape"]
    assert [s["tag"] for s in left] == [["original"]]
