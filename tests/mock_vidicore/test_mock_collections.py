"""Collections: create by name, add/remove/list items, search by name, metadata."""

from __future__ import annotations

import uuid

from mock_api import Api, metadata, new_item


def create(api: Api, name: str = "") -> dict[str, str]:
    result: dict[str, str] = api.json("POST", "collection", params={"name": name or f"C-{uuid.uuid4().hex[:8]}"})
    return result


def test_collection_is_created_by_name_with_its_loc(api: Api) -> None:
    collection = create(api, "Pending review")

    assert collection["name"] == "Pending review"
    assert collection["loc"].endswith(f"/API/collection/{collection['id']}")


def test_items_are_added_listed_and_removed(api: Api) -> None:
    collection, first, second = create(api), new_item(api), new_item(api)
    for item_id in (first, second):
        api.request("PUT", f"collection/{collection['id']}/{item_id}").raise_for_status()

    listed = api.json("GET", f"collection/{collection['id']}/item", params={"first": "2", "number": "5"})
    api.request("DELETE", f"collection/{collection['id']}/{first}").raise_for_status()
    remaining = api.json("GET", f"collection/{collection['id']}/item")

    assert listed["hits"] == 2 and [i["id"] for i in listed["item"]] == [second]
    assert [i["id"] for i in remaining["item"]] == [second]


def test_adding_an_unknown_item_gets_404(api: Api) -> None:
    collection = create(api)

    api.json("PUT", f"collection/{collection['id']}/VX-987654", expect=404)


def test_collections_are_found_by_name(api: Api) -> None:
    name = f"FoundByFaceAnalysis-{uuid.uuid4().hex[:6]}"
    collection = create(api, name)

    found = api.json("PUT", "collection", json={"text": name})

    assert [c["id"] for c in found["collection"]] == [collection["id"]]


def test_collection_metadata_is_written_and_read(api: Api) -> None:
    collection = create(api)

    api.json("PUT", f"collection/{collection['id']}/metadata", json=metadata(("title", "Renamed")))

    doc = api.json("GET", f"collection/{collection['id']}", params={"content": "metadata"})
    assert doc["metadata"]["timespan"][0]["field"][0]["value"][0]["value"] == "Renamed"


def test_an_item_lists_its_collections(api: Api) -> None:
    collection, item_id = create(api), new_item(api)
    api.request("PUT", f"collection/{collection['id']}/{item_id}").raise_for_status()

    doc = api.json("GET", f"item/{item_id}/collections")

    assert doc["collection"] == [{"id": collection["id"], "name": collection["name"]}]
