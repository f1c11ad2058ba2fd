"""VidiNet service configuration (`configuration/pre-check` and `configuration`, reference §3.4).

A service declares metadata fields, field groups, shape tags, custom job types
and collections; applying the declaration creates what is missing. Without a
declaration of its own a COGNITIVE_SERVICE gets the face service's (§11).
"""

from __future__ import annotations

from typing import Any

from mock_vidicore.collection import create_collection
from mock_vidicore.context import Context
from mock_vidicore.documents import as_list
from mock_vidicore.errors import invalid_input
from mock_vidicore.fields import define_field, define_group
from mock_vidicore.model import Resource

Declaration = dict[str, Any]

_ADU_FIELDS = ["adu_analyzerId", "adu_analysisType", "adu_creationDate", "adu_av_value",
               "adu_av_valueId", "adu_av_description", "adu_av_thumbnailUrl", "adu_valueId",
               "adu_value"]
FACE_DECLARATION: Declaration = {
    "serviceName": "Face Training and Analysis",
    "metadataField": [
        {"name": "vcs_face_isTrainingMaterial", "type": "boolean"},
        {"name": "vcs_face_value", "type": "string"},
        {"name": "vcs_face_method", "type": "string"},
        {"name": "vcs_face_status", "type": "string"},
        {"name": "vcs_face_externalId", "type": "string"},
        {"name": "vcs_face_isTrainingCollection", "type": "boolean"},
        {"name": "vcs_face_isSampleCollection", "type": "boolean"},
        {"name": "adu_av_confidence", "type": "float"},
        *({"name": name, "type": "string"} for name in _ADU_FIELDS),
    ],
    "fieldGroup": [
        {"name": "adu_av_analyzedValue",
         "field": [{"name": n} for n in ("adu_av_value", "adu_av_valueId", "adu_av_confidence",
                                         "adu_av_description", "adu_av_thumbnailUrl")]},
        {"name": "adu_face_DeepVAKeyframeAnalyzer",
         "field": [{"name": n} for n in ("adu_analyzerId", "adu_analysisType",
                                         "adu_creationDate", "adu_valueId", "adu_value")],
         "group": [{"name": "adu_av_analyzedValue"}]},
    ],
    "shapeTag": [{"name": "vcs_face_thumbnail"}],
    "taskDefinition": [{"jobType": "VCS_TRAINING_MERGE_ITEMS"},
                       {"jobType": "VCS_TRAINING_RELABEL_ITEM"}],
    "collection": [{"name": "FaceTrainingDataset",
                    "field": [{"name": "vcs_face_isTrainingCollection", "value": "true"}]}],
}


def declaration_of(resource: Resource) -> Declaration:
    """The declaration stored on the resource, else the built-in face declaration."""
    return resource.configuration if resource.configuration is not None else FACE_DECLARATION


def _names(declaration: Declaration, key: str, name_key: str = "name") -> list[dict[str, Any]]:
    entries = []
    for entry in as_list(declaration.get(key)):
        if not isinstance(entry, dict) or not isinstance(entry.get(name_key), str):
            raise invalid_input("configuration", f"each {key} needs a {name_key}")
        entries.append(entry)
    return entries


def evaluate(ctx: Context, resource: Resource, declaration: Declaration,
             apply: bool, user: str) -> dict[str, Any]:
    """The ServiceConfigurationResultDocument; with ``apply`` also create what is missing.

    Each entry's status is CREATE (missing), UPDATE (field type differs) or
    EXISTS, computed before applying. Caller holds the store transaction.
    """
    store = ctx.store
    result: dict[str, Any] = {
        "serviceName": declaration.get("serviceName") or resource.body.get("name", ""),
        "serviceId": resource.body.get("url", "").split("//")[-1].split(":")[0],
        "metadataField": [], "fieldGroup": [], "shapeTag": [], "taskDefinition": [],
        "collection": []}
    for entry in _names(declaration, "metadataField"):
        current = store.fields.get(entry["name"])
        kind = str(entry.get("type", "string"))
        status = "CREATE" if current is None else "EXISTS" if current.type == kind else "UPDATE"
        result["metadataField"].append({"name": entry["name"], "type": kind, "status": status})
        if apply and status != "EXISTS":
            define_field(ctx, entry["name"], kind)
    for entry in _names(declaration, "fieldGroup"):
        status = "EXISTS" if entry["name"] in store.groups else "CREATE"
        result["fieldGroup"].append({"name": entry["name"], "status": status})
    if apply:
        groups = _names(declaration, "fieldGroup")
        for entry in groups:
            define_group(ctx, entry["name"], [f["name"] for f in as_list(entry.get("field"))], [])
        for entry in groups:
            define_group(ctx, entry["name"], [], [g["name"] for g in as_list(entry.get("group"))])
    for entry in _names(declaration, "shapeTag"):
        exists = entry["name"] in store.shape_tags
        result["shapeTag"].append({"name": entry["name"], "status": "EXISTS" if exists else "CREATE"})
        if apply and not exists:
            store.shape_tags.append(entry["name"])
    for entry in _names(declaration, "taskDefinition", "jobType"):
        exists = entry["jobType"] in store.job_types
        result["taskDefinition"].append({"jobType": entry["jobType"],
                                         "status": "EXISTS" if exists else "CREATE"})
        if apply:
            store.job_types[entry["jobType"]] = resource.id
    for entry in _names(declaration, "collection"):
        found = next((c for c in store.collections.values() if c.name == entry["name"]), None)
        result["collection"].append({"name": entry["name"],
                                     "status": "EXISTS" if found else "CREATE"})
        if apply and found is None:
            fields = [{"name": f["name"], "value": [{"value": str(f.get("value", ""))}]}
                      for f in as_list(entry.get("field"))]
            metadata = {"timespan": [{"start": "-INF", "end": "+INF", "field": fields}]}
            create_collection(ctx, entry["name"], metadata if fields else {}, user)
    return result
