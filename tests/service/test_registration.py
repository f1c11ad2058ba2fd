"""Registration is idempotent: a restarted service reuses its resources and changes nothing."""

from __future__ import annotations

from operator_api import Operator


def statuses(result: dict) -> set[str]:
    return {entry["status"] for key in ("metadataField", "fieldGroup", "shapeTag", "taskDefinition", "collection")
            for entry in result.get(key, []) or []}


def test_a_restart_reuses_the_resource_the_callback_and_the_configuration(start_service, operator: Operator) -> None:
    first = start_service(vidicore__resource_name="vidiplug-restart")
    reg = first.registration
    assert reg is not None
    first.stop()

    second = start_service(vidicore__resource_name="vidiplug-restart")

    assert second.registration == reg
    services = [r for r in operator.call("GET", "resource/vidinet")["resource"]
                if r["vidinet"]["url"] == "vidinet://vidiplug-restart@vidiplug"]
    assert [r["id"] for r in services] == [reg.resource_id]
    precheck = operator.call("GET", f"resource/vidinet/{reg.resource_id}/configuration/pre-check")
    assert statuses(precheck) == {"EXISTS"}
    groups = {g["name"] for g in precheck["fieldGroup"]}
    assert {"adu_face_VidiplugFaceAnalyzer", "adu_av_analyzedValue", "adu_av_boundingBox"} <= groups
    job_types = {t["jobType"] for t in precheck["taskDefinition"]}
    assert job_types == {"VCS_TRAINING_MERGE_ITEMS", "VCS_TRAINING_RELABEL_ITEM"}
    search = {"text": [{"value": "FaceTrainingDataset"}]}
    trainings = [c for c in operator.call("PUT", "collection", json=search)["collection"]
                 if c["name"] == "FaceTrainingDataset"]
    assert len(trainings) == 1
    search = {"text": [{"value": "FoundByFaceAnalysis"}]}
    unknowns = [c for c in operator.call("PUT", "collection", json=search)["collection"]
                if c["name"] == "FoundByFaceAnalysis"]
    assert [c["id"] for c in unknowns] == [reg.unknown_collection_id]
