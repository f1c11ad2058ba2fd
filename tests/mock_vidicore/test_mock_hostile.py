"""Strictness against hostile and malformed input: DTDs, entities, bad syntax, huge bodies."""

from __future__ import annotations

import pytest
from lxml import etree

from mock_api import NS, Api, new_item

XXE = (b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<MetadataDocument xmlns="http://xml.vidispine.com/schema/vidispine">'
       b'<timespan start="-INF" end="+INF"><field><name>title</name><value>&x;</value></field>'
       b"</timespan></MetadataDocument>")
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
          b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
          b"<MetadataDocument><timespan><field><name>title</name><value>&c;</value></field>"
          b"</timespan></MetadataDocument>")


def explanation(response_content: bytes) -> str:
    root = etree.fromstring(response_content)
    return str(root.findtext(f"{{{NS}}}invalidInput/{{{NS}}}explanation"))


@pytest.mark.parametrize("body", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_xml_with_doctype_or_entities_is_refused(api: Api, body: bytes) -> None:
    item_id = new_item(api)

    response = api.request("PUT", f"item/{item_id}/metadata", data=body,
                           headers={"Content-Type": "application/xml"})

    assert response.status_code == 400
    assert "DOCTYPE" in explanation(response.content)
    assert "root:" not in api.request("GET", f"item/{item_id}",
                                      params={"content": "metadata"}).text


def test_malformed_xml_gets_400_naming_the_problem(api: Api) -> None:
    item_id = new_item(api)

    response = api.request("PUT", f"item/{item_id}/metadata", data=b"<MetadataDocument><timespan>",
                           headers={"Content-Type": "application/xml"})

    assert response.status_code == 400
    assert "malformed XML" in explanation(response.content)


def test_malformed_json_gets_400_naming_the_problem(api: Api) -> None:
    item_id = new_item(api)

    response = api.request("PUT", f"item/{item_id}/metadata", data=b'{"timespan": [',
                           headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert "malformed JSON" in explanation(response.content)


def test_wrong_root_element_gets_400(api: Api) -> None:
    item_id = new_item(api)

    response = api.request("PUT", f"item/{item_id}/metadata", data=f'<ItemDocument xmlns="{NS}"/>',
                           headers={"Content-Type": "application/xml"})

    assert response.status_code == 400
    assert "expected <MetadataDocument>" in explanation(response.content)


def test_body_over_the_configured_limit_gets_413(api: Api) -> None:
    item_id = new_item(api)

    response = api.request("POST", f"import/placeholder/{item_id}/container/raw",
                           params={"filename": "big.bin"}, data=b"\0" * (2 * 1024 * 1024),
                           headers={"Content-Type": "application/octet-stream"})

    assert response.status_code == 413
    assert "exceeds" in explanation(response.content)


def test_hostile_text_round_trips_as_data(api: Api) -> None:
    hostile = "x'); api.path('item').delete(); //]]></script>\u2028<!ENTITY"
    item_id = new_item(api, ("title", hostile))

    xml = api.request("GET", f"item/{item_id}", params={"content": "metadata"}).content

    assert etree.fromstring(xml).findtext(f".//{{{NS}}}value") == hostile
