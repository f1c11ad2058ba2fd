"""The mock as a process: URL on stdout, auth, negotiation, logging, shutdown, persistence."""

from __future__ import annotations

from pathlib import Path

import requests
from lxml import etree

from mock_api import NS, Api, Server, metadata, new_item, start_server


def test_unauthenticated_request_gets_401_exception_document(server: Server) -> None:
    response = requests.get(f"{server.url}/API/item", auth=("admin", "wrong"), timeout=10)

    assert response.status_code == 401
    assert etree.fromstring(response.content).find(f"{{{NS}}}notAuthorized") is not None
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_missing_credentials_get_401(server: Server) -> None:
    response = requests.get(f"{server.url}/API/item", timeout=10)

    assert response.status_code == 401


def test_unknown_item_gets_404_not_found_naming_type_and_id(api: Api) -> None:
    response = api.request("GET", "item/VX-999999")

    root = etree.fromstring(response.content)
    assert response.status_code == 404
    assert root.findtext(f"{{{NS}}}notFound/{{{NS}}}type") == "Item"
    assert root.findtext(f"{{{NS}}}notFound/{{{NS}}}id") == "VX-999999"


def test_unknown_path_gets_404(api: Api) -> None:
    assert api.request("GET", "no-such-thing").status_code == 404


def test_xml_is_the_default_and_carries_the_vidispine_namespace(api: Api) -> None:
    item_id = new_item(api)

    response = api.request("GET", f"item/{item_id}")

    assert response.headers["Content-Type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{NS}}}ItemDocument"
    assert root.get("id") == item_id


def test_json_is_returned_on_accept_json_without_root_wrapper(api: Api) -> None:
    item_id = new_item(api, ("title", "json"))

    doc = api.json("GET", f"item/{item_id}", params={"content": "metadata"})

    assert doc["id"] == item_id
    field = doc["metadata"]["timespan"][0]["field"][0]
    assert field["name"] == "title" and field["value"][0]["value"] == "json"


def test_ids_are_vx_n_and_sequential_per_entity_type(api: Api) -> None:
    first, second = new_item(api), new_item(api)

    assert first.startswith("VX-") and second.startswith("VX-")
    assert int(second[3:]) == int(first[3:]) + 1


def test_each_request_is_logged_on_one_line_without_secrets(api: Api, server: Server) -> None:
    api.request("POST", "import", params={"uri": "s3://AKIAKEY:s3cr3t@media/clip.mp4"})

    log = server.log_path.read_text()
    line = next(li for li in log.splitlines() if "POST /API/import" in li)
    assert "s3cr3t" not in log and "AKIAKEY" not in log
    assert "200" in line


def test_sigterm_stops_the_server_cleanly(tmp_path: Path) -> None:
    running = start_server(tmp_path)

    assert running.stop() == 0


def test_state_survives_a_restart_with_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = start_server(tmp_path, "--state", str(state))
    client = Api(first.url)
    item_id = new_item(client, ("title", "kept"))
    client.close()
    assert first.stop() == 0

    second = start_server(tmp_path, "--state", str(state))
    client = Api(second.url)
    doc = client.json("GET", f"item/{item_id}", params={"content": "metadata"})
    next_id = new_item(client)
    client.close()
    second.stop()

    assert doc["metadata"]["timespan"][0]["field"][0]["value"][0]["value"] == "kept"
    assert next_id != item_id


def test_metadata_put_accepts_xml_in_the_namespace(api: Api) -> None:
    item_id = new_item(api)
    body = (f'<MetadataDocument xmlns="{NS}"><timespan start="-INF" end="+INF">'
            "<field><name>title</name><value>from xml</value></field>"
            "</timespan></MetadataDocument>")

    response = api.request("PUT", f"item/{item_id}/metadata", data=body.encode(),
                           headers={"Content-Type": "application/xml"})

    assert response.status_code == 200
    doc = api.json("GET", f"item/{item_id}", params={"content": "metadata"})
    assert doc["metadata"]["timespan"][0]["field"][0]["value"][0]["value"] == "from xml"


def test_metadata_helper_builds_the_documented_json_shape() -> None:
    assert metadata(("title", "x")) == {"timespan": [{"start": "-INF", "end": "+INF", "field": [
        {"name": "title", "value": [{"value": "x"}]}]}]}
