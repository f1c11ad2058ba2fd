"""Bridge mode: the invented job calls and configuration bodies exist only with `--bridge`.

Without it (the default) the mock answers as a real VidiCore: the three job calls are
unknown paths (404) and `PUT resource/vidinet/{id}/configuration` ignores its body and
creates nothing. The `api` fixture is a `--bridge` mock; `direct` is one without.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree

from mock_api import NS, Api, Server, new_item, start_server
from mock_vidicore.app import build_router
from mock_vidicore.bridge import BRIDGE_ROUTES
from mock_vidicore.context import Context, Settings
from mock_vidicore.state import Store

DECLARATION = {"serviceName": "Bridge check",
               "metadataField": [{"name": "bridge_only_score", "type": "float"}],
               "shapeTag": [{"name": "bridge_only_tag"}],
               "taskDefinition": [{"jobType": "BRIDGE_ONLY_JOB"}],
               "collection": [{"name": "BridgeOnlyCollection"}]}

DEEP: dict[str, Any] = {"format": "mp4"}
for _ in range(20):
    DEEP = {"nested": DEEP}


@pytest.fixture(scope="module")
def direct_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A mock started without `--bridge`, as a real VidiCore behaves."""
    running = start_server(tmp_path_factory.mktemp("direct"))
    try:
        yield running
    finally:
        assert running.stop() == 0


@pytest.fixture
def direct(direct_server: Server) -> Iterator[Api]:
    client = Api(direct_server.url)
    try:
        yield client
    finally:
        client.close()


def vidinet(api: Api) -> str:
    return str(api.json("POST", "resource/vidinet", json={"vidinet": {
        "url": f"vidinet://{uuid.uuid4()}:KEY@svc", "type": "COGNITIVE_SERVICE",
        "endpoint": "https://services.example", "name": "Faces"}})["id"])


def ready_job(api: Api) -> str:
    """A READY analyze job for a new vidinet resource (analyze itself is real VidiCore API)."""
    resource_id = vidinet(api)
    job = api.json("POST", f"item/{new_item(api)}/analyze", params={"resourceId": resource_id}, json={})
    assert job["status"] == "READY"
    return str(job["jobId"])


def test_the_bridge_list_names_exactly_the_three_invented_job_calls() -> None:
    assert BRIDGE_ROUTES == (("PUT", "job/{id}/claim"), ("PUT", "job/{id}/progress"),
                             ("PUT", "job/{id}/status"))


@pytest.mark.parametrize("bridge", [True, False])
def test_bridge_routes_are_registered_only_in_bridge_mode(bridge: bool) -> None:
    router = build_router(Context(settings=Settings(bridge=bridge), store=Store()))

    registered = set(BRIDGE_ROUTES) & set(router.patterns)

    assert registered == (set(BRIDGE_ROUTES) if bridge else set())
    assert ("GET", "job/{id}") in router.patterns  # the real job API is there either way


@pytest.mark.parametrize("call", ["claim", "progress", "status"])
def test_without_bridge_each_invented_job_call_answers_as_an_unknown_path(direct: Api, call: str) -> None:
    job_id = ready_job(direct)
    params = {"resourceId": "VX-1", "instance": "a", "value": "5", "status": "FINISHED"}

    answer = direct.json("PUT", f"job/{job_id}/{call}", expect=404, params=params)
    unknown = direct.json("PUT", f"job/{job_id}/no-such-call", expect=404, params=params)
    xml = direct.request("PUT", f"job/{job_id}/{call}", params=params)

    assert answer == {"notFound": {"type": "path", "id": f"job/{job_id}/{call}"}}
    assert unknown == {"notFound": {"type": "path", "id": f"job/{job_id}/no-such-call"}}
    assert xml.status_code == 404
    assert etree.fromstring(xml.content).findtext(f"{{{NS}}}notFound/{{{NS}}}type") == "path"
    assert direct.json("GET", f"job/{job_id}")["status"] == "READY"


def test_with_bridge_a_job_can_be_claimed(api: Api, service: dict[str, str]) -> None:
    job = api.json("POST", f"item/{new_item(api)}/analyze", params=service, json={})

    claimed = api.json("PUT", f"job/{job['jobId']}/claim", params={**service, "instance": "a"})

    assert claimed["status"] == "STARTED"


def test_without_bridge_a_configuration_body_creates_nothing(direct: Api) -> None:
    resource_id = vidinet(direct)

    result = direct.json("PUT", f"resource/vidinet/{resource_id}/configuration", json=DECLARATION)
    precheck = direct.json("GET", f"resource/vidinet/{resource_id}/configuration/pre-check")

    for doc in (result, precheck):
        assert doc["serviceName"] == "Faces"
        assert not any(doc.get(key) for key in ("metadataField", "fieldGroup", "shapeTag",
                                                 "taskDefinition", "collection"))
    direct.json("GET", "metadata-field/bridge_only_score", expect=404)
    direct.json("GET", "metadata-field/vcs_face_value", expect=404)  # nor the face declaration
    direct.json("GET", "shape-tag/bridge_only_tag", expect=404)
    direct.json("POST", "job", expect=400, params={"type": "BRIDGE_ONLY_JOB"})
    assert direct.json("GET", f"resource/vidinet/{resource_id}")["vidinet"]["name"] == "Faces"


def test_without_bridge_the_configuration_body_is_not_even_read(direct: Api) -> None:
    resource_id = vidinet(direct)

    response = direct.request("PUT", f"resource/vidinet/{resource_id}/configuration", data=b"<not xml",
                              headers={"Content-Type": "application/xml"})

    assert response.status_code == 200
    direct.json("PUT", "resource/vidinet/VX-999/configuration", expect=404)


def test_with_bridge_the_same_configuration_body_creates_its_field(api: Api) -> None:
    resource_id = vidinet(api)

    result = api.json("PUT", f"resource/vidinet/{resource_id}/configuration", json=DECLARATION)

    assert result["metadataField"][0]["name"] == "bridge_only_score"
    assert api.json("GET", "metadata-field/bridge_only_score")["type"] == "float"


def test_the_startup_log_says_whether_bridge_mode_is_on(direct_server: Server, server: Server) -> None:
    assert "bridge mode OFF" in direct_server.log_path.read_text()
    assert "bridge mode ON" in server.log_path.read_text()


# --- shape tags: PUT/GET shape-tag/{tag} (documented API, both modes) ---

def test_put_shape_tag_creates_it_and_answers_the_preset_with_its_name(direct: Api) -> None:
    preset: dict[str, Any] = {"format": "mp4", "video": {"codec": "h264", "bitrate": "800000"}}

    created = direct.json("PUT", "shape-tag/web_preview", json=preset)
    fetched = direct.json("GET", "shape-tag/web_preview")
    listing = direct.json("GET", "shape-tag")
    text = direct.request("GET", "shape-tag", headers={"Accept": "text/plain"}).text

    assert created == {"name": "web_preview", **preset} == fetched
    assert "web_preview" in listing["uri"] and listing["hits"] == len(listing["uri"])
    assert "web_preview" in text.split("\r\n")


def test_put_shape_tag_without_a_body_creates_a_bare_tag(direct: Api) -> None:
    assert direct.json("PUT", "shape-tag/bare_tag") == {"name": "bare_tag"}
    assert direct.json("GET", "shape-tag/bare_tag") == {"name": "bare_tag"}


def test_put_shape_tag_takes_xml_and_answers_xml(direct: Api) -> None:
    body = (f'<TranscodePresetDocument xmlns="{NS}"><name>ignored</name><format>mp4</format>'
            "</TranscodePresetDocument>")

    response = direct.request("PUT", "shape-tag/xml_tag", data=body,
                              headers={"Content-Type": "application/xml"})

    assert response.status_code == 200
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{NS}}}TranscodePresetDocument"
    assert root.findtext(f"{{{NS}}}name") == "xml_tag"  # the path names the tag
    assert root.findtext(f"{{{NS}}}format") == "mp4"


def test_a_second_put_replaces_the_preset(direct: Api) -> None:
    direct.json("PUT", "shape-tag/replaced_tag", json={"format": "mp4", "audio": {"codec": "aac"}})

    direct.json("PUT", "shape-tag/replaced_tag", json={"format": "png"})

    assert direct.json("GET", "shape-tag/replaced_tag") == {"name": "replaced_tag", "format": "png"}
    assert direct.json("GET", "shape-tag")["uri"].count("replaced_tag") == 1


def test_a_system_tag_can_be_given_a_preset(direct: Api) -> None:
    assert direct.json("GET", "shape-tag/__mp4") == {"name": "__mp4"}
    assert direct.json("PUT", "shape-tag/__mp4", json={"format": "mp4"}) == {"name": "__mp4", "format": "mp4"}


def test_get_unknown_shape_tag_is_404(direct: Api) -> None:
    assert direct.json("GET", "shape-tag/never_made", expect=404) == {
        "notFound": {"type": "ShapeTag", "id": "never_made"}}


@pytest.mark.parametrize("name", ["%3Cscript%3Ealert(1)", "%3Cb%3E", "a%20b", "%22%27%26",
                                  "9lives", "tag%00", "x" * 200, "_" * 128 + "x"])
def test_hostile_shape_tag_names_get_400_and_create_nothing(direct: Api, name: str) -> None:
    before = direct.json("GET", "shape-tag")["uri"]

    answer = direct.json("PUT", f"shape-tag/{name}", expect=400)

    assert answer["invalidInput"]["context"] == "shape-tag"
    assert direct.json("GET", "shape-tag")["uri"] == before


def test_empty_shape_tag_name_gets_400(direct: Api) -> None:
    assert direct.json("PUT", "shape-tag/", expect=400)["invalidInput"]["context"] == "shape-tag"


@pytest.mark.parametrize("body", [{"a b": "1"}, {"<x>": "1"}, {"format": "mp4\x01"}, DEEP])
def test_preset_bodies_that_xml_cannot_carry_get_400(direct: Api, body: dict[str, Any]) -> None:
    direct.json("PUT", "shape-tag/bad_body", expect=400, json=body)

    direct.json("GET", "shape-tag/bad_body", expect=404)


def test_preset_with_doctype_is_refused(direct: Api) -> None:
    body = b'<!DOCTYPE x [<!ENTITY e "boom">]><TranscodePresetDocument><format>&e;</format></TranscodePresetDocument>'

    response = direct.request("PUT", "shape-tag/doctype_tag", data=body, headers={"Content-Type": "application/xml"})

    assert response.status_code == 400
    direct.json("GET", "shape-tag/doctype_tag", expect=404)
