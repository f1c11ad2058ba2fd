"""Storages: create/list/get/delete, imports with `storageId`, uploads into `file://` folders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from lxml import etree

from mock_api import NS, Api, Server, new_item, start_server

PNG = b"\x89PNG\r\n\x1a\n" + b"\1" * 32
OCTETS = {"Content-Type": "application/octet-stream"}


def storage(api: Api, *uris: str, **fields: Any) -> dict[str, Any]:
    """Register a storage with one writable method per URI; return its StorageDocument."""
    return dict(api.json("POST", "storage", json={
        "type": "LOCAL", "method": [{"uri": uri, "read": True, "write": True, "browse": True}
                                    for uri in uris], **fields}))


def folder_uri(folder: Path) -> str:
    return folder.as_uri() + "/"


def container_file(api: Api, item_id: str) -> dict[str, Any]:
    shape = api.json("GET", f"item/{item_id}", params={"content": "shape"})["shape"][0]
    return dict(shape["containerComponent"]["file"][0])


def item_of(job: dict[str, Any]) -> str:
    return str(next(d["value"] for d in job["data"] if d["key"] == "itemId"))


def test_json_storage_is_created_listed_and_read_back(api: Api, tmp_path: Path) -> None:
    named = {"field": [{"key": "name", "value": "M"}]}
    created = storage(api, folder_uri(tmp_path), metadata=named)

    got = api.json("GET", f"storage/{created['id']}")
    listing = api.json("GET", "storage")

    method = created["method"][0]
    assert created["id"].startswith("VX-") and method["id"].startswith("VX-")
    assert created["state"] == "READY" and method == {"id": method["id"], "type": "NONE",
        "uri": folder_uri(tmp_path), "read": True, "write": True, "browse": True}
    assert created["metadata"] == named and got == created and created in listing["storage"]


def test_xml_storage_document_is_accepted_and_answered_in_xml(api: Api) -> None:
    body = (f'<StorageDocument xmlns="{NS}"><type>SHARED</type><method>'
            "<uri>file:///srv/media/</uri><read>true</read><write>false</write>"
            "<browse>true</browse></method></StorageDocument>")

    response = api.request("POST", "storage", data=body,
                           headers={"Content-Type": "application/xml"})

    root = etree.fromstring(response.content)
    assert response.status_code == 200 and root.tag == f"{{{NS}}}StorageDocument"
    assert root.findtext(f"{{{NS}}}type") == "SHARED"
    assert root.findtext(f"{{{NS}}}method/{{{NS}}}uri") == "file:///srv/media/"
    assert root.findtext(f"{{{NS}}}method/{{{NS}}}write") == "false"
    listed = etree.fromstring(api.request("GET", "storage").content)
    assert root.findtext(f"{{{NS}}}id") in [e.text for e in listed.iter(f"{{{NS}}}id")]


def test_unknown_storage_gets_404_naming_storage(api: Api) -> None:
    response = api.request("GET", "storage/VX-999999")

    root = etree.fromstring(response.content)
    assert response.status_code == 404
    assert root.findtext(f"{{{NS}}}notFound/{{{NS}}}type") == "Storage"
    assert api.json("DELETE", "storage/VX-999999", expect=404)["notFound"]["id"] == "VX-999999"


def test_deleted_storage_is_gone_but_its_file_records_stay(api: Api, tmp_path: Path) -> None:
    created = storage(api, folder_uri(tmp_path))
    job = api.json("POST", "import/raw", data=PNG, headers=OCTETS,
                   params={"filename": "kept.png", "storageId": created["id"]})

    api.request("DELETE", f"storage/{created['id']}").raise_for_status()

    api.json("GET", f"storage/{created['id']}", expect=404)
    assert created["id"] not in [s["id"] for s in api.json("GET", "storage").get("storage", [])]
    assert container_file(api, item_of(job))["storage"] == created["id"]
    assert (tmp_path / f"{item_of(job)}_kept.png").read_bytes() == PNG


@pytest.mark.parametrize("doc", [
    {"type": "LOCAL"},
    {"method": [{"uri": "/no/scheme/"}]},
    {"method": [{"uri": "file://otherhost/srv/"}]},
    {"method": [{"uri": "file:///srv/", "write": "maybe"}]},
    {"type": "FLOPPY", "method": [{"uri": "file:///srv/"}]},
], ids=["no-method", "no-scheme", "remote-file-host", "bad-flag", "bad-type"])
def test_invalid_storage_documents_get_400(api: Api, doc: dict[str, Any]) -> None:
    api.json("POST", "storage", expect=400, json=doc)


def test_raw_upload_lands_in_the_storage_folder(api: Api, tmp_path: Path) -> None:
    folder = tmp_path / "media" / "new"  # created by the upload
    created = storage(api, folder_uri(folder))
    item_id = new_item(api)

    api.json("POST", f"import/placeholder/{item_id}/container/raw", data=PNG, headers=OCTETS,
             params={"filename": "face.png", "storageId": created["id"]})

    file = container_file(api, item_id)
    target = folder / f"{item_id}_face.png"
    assert target.read_bytes() == PNG
    assert file["uri"] == [target.as_uri()] and file["path"] == target.name
    assert file["storage"] == created["id"]
    generic = api.json("GET", f"item/{item_id}/metadata")["item"][0]["metadata"]["timespan"][0]
    assert {"name": "originalFilename", "value": "face.png"} in [
        {"name": f["name"], "value": f["value"][0]["value"]} for f in generic["field"]]


def test_one_shot_raw_import_uses_the_first_writable_method(api: Api, tmp_path: Path) -> None:
    read_only, writable = tmp_path / "ro", tmp_path / "rw"
    created = api.json("POST", "storage", json={"method": [
        {"uri": folder_uri(read_only), "write": False}, {"uri": folder_uri(writable)}]})

    job = api.json("POST", "import/raw", data=PNG, headers=OCTETS,
                   params={"filename": "a.png", "storageId": created["id"]})

    assert (writable / f"{item_of(job)}_a.png").read_bytes() == PNG
    assert not read_only.exists()


@pytest.mark.parametrize("path", ["import", "import/raw", "import/placeholder/{item}/container",
                                  "import/placeholder/{item}/container/raw"])
def test_unknown_storage_id_on_import_gets_404(api: Api, path: str, tmp_path: Path) -> None:
    clip = tmp_path / "clip.png"
    clip.write_bytes(PNG)
    url = path.format(item=new_item(api))

    error = api.json("POST", url, expect=404, data=PNG, headers=OCTETS, params={
        "uri": clip.as_uri(), "filename": "x.png", "storageId": "VX-999999"})

    assert error == {"notFound": {"type": "Storage", "id": "VX-999999"}}


def test_storage_without_a_writable_method_refuses_raw_uploads(api: Api) -> None:
    created = api.json("POST", "storage", json={"method": [{"uri": "s3://b/", "write": "false"}]})

    api.json("POST", "import/raw", expect=400, data=PNG, headers=OCTETS,
             params={"filename": "a.png", "storageId": created["id"]})


def test_non_file_storage_is_recorded_and_uploads_go_to_the_data_dir(api: Api) -> None:
    created = storage(api, "s3://KEY:SECRET@bucket/media/")
    params = {"storageId": created["id"], "filename": "b.png"}

    job = api.json("POST", "import/raw", data=PNG, headers=OCTETS, params=params)
    by_uri = api.json("POST", "import", params={**params, "uri": "s3://media/clip.mp4"})

    file = container_file(api, item_of(job))
    assert file["storage"] == created["id"] and file["uri"][0].startswith("file://")
    assert Path(unquote(urlsplit(file["uri"][0]).path)).read_bytes() == PNG
    assert container_file(api, item_of(by_uri))["storage"] == created["id"]


@pytest.mark.parametrize("name", ["../../escape.png", "..\\..\\escape.png", "/etc/escape.png",
                                  "sub/../../escape.png", "esc\x00ape\n.png", "..escape.png"])
def test_hostile_file_names_stay_inside_the_storage_folder(api: Api, tmp_path: Path,
                                                           name: str) -> None:
    folder = tmp_path / "a" / "b" / "store"
    created = storage(api, folder_uri(folder))
    item_id = new_item(api)

    api.json("POST", f"import/placeholder/{item_id}/container/raw", data=PNG, headers=OCTETS,
             params={"filename": name, "storageId": created["id"]})

    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) == 1 and written[0].parent == folder
    assert written[0].name.startswith(f"{item_id}_") and written[0].read_bytes() == PNG


@pytest.mark.parametrize("name", ["..", ".", " . ", "a/.."])
def test_file_names_with_nothing_left_get_400(api: Api, tmp_path: Path, name: str) -> None:
    created = storage(api, folder_uri(tmp_path))

    api.json("POST", "import/raw", expect=400, data=PNG, headers=OCTETS,
             params={"filename": name, "storageId": created["id"]})

    assert list(tmp_path.iterdir()) == []


def test_a_symlink_planted_under_the_upload_name_is_not_followed(api: Api, tmp_path: Path) -> None:
    folder, outside = tmp_path / "store", tmp_path / "outside.txt"
    folder.mkdir()
    outside.write_text("keep")
    created = storage(api, folder_uri(folder))
    item_id = new_item(api)
    os.symlink(outside, folder / f"{item_id}_face.png")

    api.json("POST", f"import/placeholder/{item_id}/container/raw", expect=400, data=PNG,
             headers=OCTETS, params={"filename": "face.png", "storageId": created["id"]})

    assert outside.read_text() == "keep"


def test_method_credentials_are_masked_in_log_and_errors(api: Api, server: Server) -> None:
    uri = "s3://AKIASTORE:st0r3s3cr3t@bucket/media/"
    created = storage(api, uri, "s3://AKIA%2FENC:enc%40s3cr3t@bucket/other/")
    refused = api.request("POST", "storage", json={"method": [{"uri": uri, "read": "perhaps"}]})
    missing = api.request("POST", "storage", json={"method": [{"uri": "AKIASTORE:st0r3s3cr3t@x"}]})

    log = server.log_path.read_text()
    assert api.json("GET", f"storage/{created['id']}")["method"][0]["uri"] == uri
    assert refused.status_code == 400 and missing.status_code == 400
    for secret in ("AKIASTORE", "st0r3s3cr3t", "AKIA/ENC", "AKIA%2FENC", "enc@s3cr3t", "s3cr3t"):
        assert secret not in log
        assert secret not in refused.text and secret not in missing.text
    assert f"storage {created['id']} registered" in log and "s3://***@bucket/media/" in log


def test_storages_survive_a_restart_with_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = start_server(tmp_path, "--state", str(state))
    client = Api(first.url)
    created = storage(client, "s3://KEY:SECRET@bucket/media/", folder_uri(tmp_path / "m"))
    client.close()
    assert first.stop() == 0

    second = start_server(tmp_path, "--state", str(state))
    client = Api(second.url)
    restored = client.json("GET", f"storage/{created['id']}")
    later = storage(client, folder_uri(tmp_path / "n"))
    client.close()
    second.stop()

    assert restored == created
    assert later["id"] != created["id"]
    assert later["method"][0]["id"] not in {m["id"] for m in created["method"]}
