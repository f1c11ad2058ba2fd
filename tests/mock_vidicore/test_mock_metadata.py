"""Item metadata: merge rules, bookkeeping attributes, field definitions and type checking."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from mock_api import Api, metadata, new_item


def read(api: Api, item_id: str, **params: str) -> list[dict[str, Any]]:
    doc = api.json("GET", f"item/{item_id}", params={"content": "metadata", **params})
    return list(doc["metadata"].get("timespan", []))


def define(api: Api, kind: str) -> str:
    name = f"test_{kind.replace('-', '')}_{uuid.uuid4().hex[:8]}"
    api.json("PUT", f"metadata-field/{name}", json={"type": kind})
    return name


def test_read_back_carries_uuid_user_timestamp_and_change(api: Api) -> None:
    item_id = new_item(api, ("title", "a"))

    field = read(api, item_id)[0]["field"][0]

    for node in (field, field["value"][0]):
        assert set(node) >= {"uuid", "user", "timestamp", "change"}
        assert node["user"] == "admin" and node["change"].startswith("VX-")


def test_writing_a_field_replaces_its_values_and_keeps_other_fields(api: Api) -> None:
    other = define(api, "string")
    item_id = new_item(api, ("title", "old"), (other, "kept"))

    api.json("PUT", f"item/{item_id}/metadata", json=metadata(("title", "new")))

    fields = {f["name"]: [v["value"] for v in f["value"]] for f in read(api, item_id)[0]["field"]}
    assert fields == {"title": ["new"], other: ["kept"]}


def test_each_write_is_a_new_change_set(api: Api) -> None:
    item_id = new_item(api, ("title", "one"))
    first = read(api, item_id)[0]["field"][0]

    api.json("PUT", f"item/{item_id}/metadata", json=metadata(("title", "two")))

    second = read(api, item_id)[0]["field"][0]
    assert second["uuid"] == first["uuid"]
    assert second["change"] != first["change"]


def test_mode_add_appends_a_value(api: Api) -> None:
    item_id = new_item(api, ("title", "a"))
    doc = metadata(("title", "b"))
    doc["timespan"][0]["field"][0]["mode"] = "add"

    api.json("PUT", f"item/{item_id}/metadata", json=doc)

    assert [v["value"] for v in read(api, item_id)[0]["field"][0]["value"]] == ["a", "b"]


def test_mode_remove_deletes_a_field(api: Api) -> None:
    item_id = new_item(api, ("title", "a"))

    api.json("PUT", f"item/{item_id}/metadata", json={"timespan": [
        {"start": "-INF", "end": "+INF", "field": [{"name": "title", "mode": "remove"}]}]})

    assert read(api, item_id) == []


def test_timespans_with_different_intervals_stay_apart(api: Api) -> None:
    item_id = new_item(api)

    api.json("PUT", f"item/{item_id}/metadata", json=metadata(("title", "a"), start="1@PAL", end="2@PAL"))
    api.json("PUT", f"item/{item_id}/metadata", json=metadata(("title", "b"), start="5@PAL", end="6@PAL"))

    spans = read(api, item_id)
    assert [(s["start"], s["end"]) for s in spans] == [("1@PAL", "2@PAL"), ("5@PAL", "6@PAL")]
    assert read(api, item_id, interval="generic") == []


def group_doc(value: str, group_uuid: str = "", mode: str = "") -> dict[str, Any]:
    group: dict[str, Any] = {"name": "adu_av_analyzedValue", "field": [
        {"name": "adu_av_value", "value": [{"value": value}]}]}
    if group_uuid:
        group["uuid"] = group_uuid
    if mode:
        group["mode"] = mode
    return {"timespan": [{"start": "10@PAL", "end": "11@PAL", "group": [group]}]}


def test_groups_without_uuid_are_added_as_new_groups(api: Api, service: dict[str, str]) -> None:
    item_id = new_item(api)

    api.json("PUT", f"item/{item_id}/metadata", json=group_doc("Ann"))
    api.json("PUT", f"item/{item_id}/metadata", json=group_doc("Bob"))

    groups = read(api, item_id)[0]["group"]
    assert [g["field"][0]["value"][0]["value"] for g in groups] == ["Ann", "Bob"]


def test_a_group_with_uuid_is_updated_in_place(api: Api, service: dict[str, str]) -> None:
    item_id = new_item(api)
    api.json("PUT", f"item/{item_id}/metadata", json=group_doc("Ann"))
    group_uuid = read(api, item_id)[0]["group"][0]["uuid"]

    api.json("PUT", f"item/{item_id}/metadata", json=group_doc("Anna", group_uuid))

    groups = read(api, item_id)[0]["group"]
    assert len(groups) == 1 and groups[0]["field"][0]["value"][0]["value"] == "Anna"


def test_mode_remove_on_a_group_deletes_it(api: Api, service: dict[str, str]) -> None:
    item_id = new_item(api)
    api.json("PUT", f"item/{item_id}/metadata", json=group_doc("Ann"))
    group_uuid = read(api, item_id)[0]["group"][0]["uuid"]

    api.json("PUT", f"item/{item_id}/metadata", json=group_doc("", group_uuid, "remove"))

    assert read(api, item_id) == []


def test_undefined_field_is_rejected_with_400(api: Api) -> None:
    item_id = new_item(api)

    error = api.json("PUT", f"item/{item_id}/metadata", expect=400,
                     json=metadata(("never_defined_field", "x")))

    assert "never_defined_field" in error["invalidInput"]["explanation"]


def test_undefined_group_is_rejected_with_400(api: Api) -> None:
    item_id = new_item(api)

    api.json("PUT", f"item/{item_id}/metadata", expect=400, json={"timespan": [
        {"start": "-INF", "end": "+INF", "group": [{"name": "no_such_group"}]}]})


def test_wrong_type_for_a_defined_field_is_rejected_and_nothing_written(api: Api) -> None:
    flag, number = define(api, "boolean"), define(api, "float")
    item_id = new_item(api)

    bad_flag = api.json("PUT", f"item/{item_id}/metadata", expect=400,
                        json=metadata((number, "0.5"), (flag, "yes")))
    bad_number = api.json("PUT", f"item/{item_id}/metadata", expect=400,
                          json=metadata((number, "high")))

    assert "boolean" in bad_flag["invalidInput"]["explanation"]
    assert "number" in bad_number["invalidInput"]["explanation"]
    assert read(api, item_id) == []


def test_field_definition_reads_back_and_unknown_type_is_refused(api: Api) -> None:
    name = define(api, "integer")

    doc = api.json("GET", f"metadata-field/{name}")
    api.json("PUT", "metadata-field/test_bad_type", expect=400, json={"type": "bogus"})

    assert doc["name"] == name and doc["type"] == "integer"


def test_string_restriction_pattern_is_enforced(api: Api) -> None:
    name = f"test_pattern_{uuid.uuid4().hex[:6]}"
    api.json("PUT", f"metadata-field/{name}", json={"type": "string-exact",
                                                    "stringRestriction": {"pattern": "[a-z]+"}})
    item_id = new_item(api)

    api.json("PUT", f"item/{item_id}/metadata", expect=400, json=metadata((name, "ABC")))
    api.json("PUT", f"item/{item_id}/metadata", json=metadata((name, "abc")))


def test_field_group_lists_its_member_fields(api: Api) -> None:
    field = define(api, "string")
    group = f"test_group_{uuid.uuid4().hex[:6]}"

    api.request("PUT", f"metadata-field/field-group/{group}").raise_for_status()
    api.request("PUT", f"metadata-field/field-group/{group}/{field}").raise_for_status()

    doc = api.json("GET", f"metadata-field/field-group/{group}")
    assert doc["field"] == [{"name": field, "type": "string"}]


def test_twenty_concurrent_writers_lose_no_write(api: Api) -> None:
    item_id = new_item(api)
    errors: list[str] = []

    def writer(index: int) -> None:
        client = Api(api.base_url)
        try:
            for round_ in range(3):
                doc = metadata(("title", f"w{index}-{round_}"),
                               start=f"{index * 10 + round_}@PAL", end=f"{index * 10 + round_ + 1}@PAL")
                response = client.request("PUT", f"item/{item_id}/metadata", json=doc)
                if response.status_code != 200:
                    errors.append(response.text)
        finally:
            client.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    values = {s["field"][0]["value"][0]["value"] for s in read(api, item_id)}
    assert errors == []
    assert values == {f"w{i}-{r}" for i in range(20) for r in range(3)}
