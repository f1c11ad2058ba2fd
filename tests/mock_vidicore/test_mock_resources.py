"""Resources: VidiNet services, callback locations, service configuration."""

from __future__ import annotations

import uuid

from mock_api import Api


def vidinet(api: Api) -> dict[str, str]:
    result: dict[str, str] = api.json("POST", "resource/vidinet", json={"vidinet": {
        "url": f"vidinet://{uuid.uuid4()}:KEY@x", "type": "COGNITIVE_SERVICE",
        "endpoint": "https://services.example", "name": "Faces"}})
    return result


def test_registered_vidinet_service_is_online(api: Api) -> None:
    resource = vidinet(api)

    doc = api.json("GET", f"resource/vidinet/{resource['id']}")

    assert doc["vidinet"]["state"] == "ONLINE"
    assert doc["vidinet"]["type"] == "COGNITIVE_SERVICE"
    assert api.request("GET", f"resource/vidinet/{resource['id']}/status").text == "ONLINE"


def test_service_listing_has_the_client_json_shape(api: Api) -> None:
    resource = vidinet(api)

    listing = api.json("GET", "resource/vidinet")

    assert {"id": resource["id"], "vidinet": resource["vidinet"]} in listing["resource"]


def test_xml_resource_document_posted_to_plain_resource_infers_type(api: Api) -> None:
    body = ('<ResourceDocument xmlns="http://xml.vidispine.com/schema/vidispine"><callback>'
            "<uri>s3://KEY:SECRET@bucket/folder1/</uri></callback></ResourceDocument>")

    response = api.request("POST", "resource", data=body,
                           headers={"Content-Type": "application/xml", "Accept": "application/json"})

    assert response.status_code == 200
    assert response.json()["callback"]["uri"] == "s3://KEY:SECRET@bucket/folder1/"


def test_callback_location_must_be_s3(api: Api) -> None:
    api.json("POST", "resource/callback", expect=400,
             json={"callback": {"uri": "https://example.com/x"}})


def test_wrong_type_segment_gets_400(api: Api) -> None:
    resource = vidinet(api)

    api.json("GET", f"resource/callback/{resource['id']}", expect=400)


def test_vidinet_without_url_gets_400(api: Api) -> None:
    api.json("POST", "resource/vidinet", expect=400, json={"vidinet": {"type": "COGNITIVE_SERVICE"}})


def test_pre_check_reports_create_and_apply_creates_fields_and_collection(api: Api) -> None:
    resource = vidinet(api)
    before = api.json("GET", f"resource/vidinet/{resource['id']}/configuration/pre-check",
                      params={"displayData": "true"})

    api.json("PUT", f"resource/vidinet/{resource['id']}/configuration")

    after = api.json("GET", f"resource/vidinet/{resource['id']}/configuration/pre-check")
    assert {e["status"] for e in after["metadataField"]} == {"EXISTS"}
    assert after["collection"][0]["status"] == "EXISTS"
    assert before["taskDefinition"][0]["jobType"] == "VCS_TRAINING_MERGE_ITEMS"
    assert api.json("GET", "metadata-field/vcs_face_isTrainingMaterial")["type"] == "boolean"


def test_applied_configuration_flags_the_training_collection(api: Api, service: dict[str, str]) -> None:
    found = api.json("PUT", "collection", json={"field": [
        {"name": "vcs_face_isTrainingCollection", "value": [{"value": True}]}]})

    assert [c["name"] for c in found["collection"]] == ["FaceTrainingDataset"]


def test_a_service_can_declare_its_own_configuration(api: Api) -> None:
    resource = vidinet(api)
    declaration = {"serviceName": "Own", "metadataField": [{"name": "own_score", "type": "float"}],
                   "shapeTag": [{"name": "own_tag"}], "taskDefinition": [{"jobType": "OWN_JOB"}],
                   "collection": [{"name": f"Own-{uuid.uuid4().hex[:6]}"}]}

    result = api.json("PUT", f"resource/vidinet/{resource['id']}/configuration", json=declaration)

    assert result["metadataField"] == [{"name": "own_score", "type": "float", "status": "CREATE"}]
    assert api.json("GET", "metadata-field/own_score")["type"] == "float"
    job = api.json("POST", "job", params={"type": "OWN_JOB"})
    assert {"key": "resourceId", "value": resource["id"]} in job["data"]


def test_deleted_resource_is_gone(api: Api) -> None:
    resource = vidinet(api)

    api.request("DELETE", f"resource/vidinet/{resource['id']}").raise_for_status()

    api.json("GET", f"resource/vidinet/{resource['id']}", expect=404)
