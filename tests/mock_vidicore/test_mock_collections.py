"""Collections: create by name, add/remove/list items, search by name, metadata."""

from __future__ import annotations

import uuid

import pytest

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

    found = api.json("PUT", "collection", json={"text": [{"value": name}]})

    assert [c["id"] for c in found["collection"]] == [collection["id"]]


@pytest.mark.parametrize("text", ["bare string", ["bare string"], [{"name": "no value"}], {"value": 3}])
def test_a_search_text_not_a_list_of_value_objects_gets_400(api: Api, text: object) -> None:
    """VidiCore's JSON `text` is a list of {value} objects (SDK ItemSearchType, the face UI)."""
    api.json("PUT", "collection", json={"text": text}, expect=400)
    api.json("PUT", "item", json={"text": text}, expect=400)
    api.json("PUT", "item", json={"operator": {"operation": "OR", "text": text}}, expect=400)


def test_an_xml_search_text_is_the_element_text(api: Api) -> None:
    name = f"XmlSearch-{uuid.uuid4().hex[:6]}"
    collection = create(api, name)
    body = ('<ItemSearchDocument xmlns="http://xml.vidispine.com/schema/vidispine">'
            f"<text>{name}</text></ItemSearchDocument>")

    found = api.request("PUT", "collection", data=body.encode(),
                        headers={"Content-Type": "application/xml", "Accept": "application/json"}).json()

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
