"""Endpoints for metadata field and field-group definitions (`/API/metadata-field/...`)."""

from __future__ import annotations

from typing import Any

from mock_vidicore.context import Context
from mock_vidicore.documents import as_list
from mock_vidicore.errors import invalid_input, not_found
from mock_vidicore.fieldtypes import FIELD_NAME, check_field_type
from mock_vidicore.model import FieldDefinition, FieldGroup
from mock_vidicore.web import Request, Response, Router, document_response, text_response


def field_document(definition: FieldDefinition) -> dict[str, Any]:
    """The MetadataFieldDocument (JSON form) of a definition."""
    doc: dict[str, Any] = {"name": definition.name, "type": definition.type}
    if definition.pattern:
        doc["stringRestriction"] = {"pattern": definition.pattern}
    doc["system"] = "true" if definition.system else "false"
    return doc


def group_document(group: FieldGroup, ctx: Context) -> dict[str, Any]:
    """The MetadataFieldGroupDocument of a group: member fields with their types, subgroups."""
    fields = [{"name": name, "type": ctx.store.fields[name].type}
              for name in group.fields if name in ctx.store.fields]
    return {"name": group.name, "field": fields, "group": [{"name": g} for g in group.groups]}


def define_field(ctx: Context, name: str, kind: str, pattern: str = "") -> bool:
    """Create or update a field definition; True when it was created. Caller holds the lock."""
    check_field_type(name, kind)
    existing = ctx.store.fields.get(name)
    if existing is not None and existing.system:
        raise invalid_input("metadata-field", f"{name} is a system field", entity_id=name)
    ctx.store.fields[name] = FieldDefinition(name, kind, pattern)
    return existing is None


def define_group(ctx: Context, name: str, fields: list[str], groups: list[str]) -> bool:
    """Create a field group or add members to it; True when it was created."""
    if not FIELD_NAME.fullmatch(name):
        raise invalid_input("field-group", f"invalid group name {name!r}", entity_id=name)
    for member in fields:
        if member not in ctx.store.fields:
            raise not_found("MetadataField", member)
    group = ctx.store.groups.get(name)
    created = group is None
    if group is None:
        group = ctx.store.groups[name] = FieldGroup(name)
    group.fields.extend(f for f in fields if f not in group.fields)
    group.groups.extend(g for g in groups if g not in group.groups)
    return created


def register(router: Router, ctx: Context) -> None:
    """Add the metadata-field routes to ``router``."""
    store = ctx.store

    def list_groups(request: Request) -> Response:
        with store.lock:
            return document_response(request, "MetadataFieldGroupListDocument",
                                     {"group": [{"name": n} for n in store.groups]})

    def get_group(request: Request) -> Response:
        with store.lock:
            group = store.groups.get(request.params["group"])
            if group is None:
                raise not_found("MetadataFieldGroup", request.params["group"])
            return document_response(request, "MetadataFieldGroupDocument",
                                     group_document(group, ctx))

    def put_group(request: Request) -> Response:
        doc = request.document("MetadataFieldGroupDocument", required=False)
        fields = [f["name"] if isinstance(f, dict) else f for f in as_list(doc.get("field"))]
        groups = [g["name"] if isinstance(g, dict) else g for g in as_list(doc.get("group"))]
        with store.transaction():
            define_group(ctx, request.params["group"], fields, groups)
            return get_group(request)

    def delete_group(request: Request) -> Response:
        with store.transaction():
            if store.groups.pop(request.params["group"], None) is None:
                raise not_found("MetadataFieldGroup", request.params["group"])
        return text_response("")

    def put_group_field(request: Request) -> Response:
        with store.transaction():
            if request.params["group"] not in store.groups:
                raise not_found("MetadataFieldGroup", request.params["group"])
            define_group(ctx, request.params["group"], [request.params["field"]], [])
        return text_response("")

    def delete_group_field(request: Request) -> Response:
        with store.transaction():
            group = store.groups.get(request.params["group"])
            if group is None or request.params["field"] not in group.fields:
                raise not_found("MetadataField", request.params["field"])
            group.fields.remove(request.params["field"])
        return text_response("")

    def put_subgroup(request: Request) -> Response:
        with store.transaction():
            for name in (request.params["group"], request.params["child"]):
                if name not in store.groups:
                    raise not_found("MetadataFieldGroup", name)
            define_group(ctx, request.params["group"], [], [request.params["child"]])
        return text_response("")

    def list_fields(request: Request) -> Response:
        with store.lock:
            return document_response(request, "MetadataFieldListDocument",
                                     {"field": [field_document(f) for f in store.fields.values()]})

    def get_field(request: Request) -> Response:
        with store.lock:
            definition = store.fields.get(request.params["name"])
            if definition is None:
                raise not_found("MetadataField", request.params["name"])
            return document_response(request, "MetadataFieldDocument", field_document(definition))

    def put_field(request: Request) -> Response:
        doc = request.document("MetadataFieldDocument")
        kind = doc.get("type")
        restriction = doc.get("stringRestriction")
        pattern = restriction.get("pattern", "") if isinstance(restriction, dict) else ""
        if not isinstance(kind, str):
            raise invalid_input("metadata-field", "a field definition needs a <type>")
        with store.transaction():
            define_field(ctx, request.params["name"], kind, str(pattern))
            return get_field(request)

    def delete_field(request: Request) -> Response:
        with store.transaction():
            definition = store.fields.get(request.params["name"])
            if definition is None or definition.system:
                raise not_found("MetadataField", request.params["name"])
            del store.fields[request.params["name"]]
        return text_response("")

    router.add("GET", "metadata-field/field-group", list_groups)
    router.add("GET", "metadata-field/field-group/{group}", get_group)
    router.add("PUT", "metadata-field/field-group/{group}", put_group)
    router.add("DELETE", "metadata-field/field-group/{group}", delete_group)
    router.add("PUT", "metadata-field/field-group/{group}/group/{child}", put_subgroup)
    router.add("PUT", "metadata-field/field-group/{group}/{field}", put_group_field)
    router.add("DELETE", "metadata-field/field-group/{group}/{field}", delete_group_field)
    router.add("GET", "metadata-field", list_fields)
    router.add("GET", "metadata-field/{name}", get_field)
    router.add("PUT", "metadata-field/{name}", put_field)
    router.add("DELETE", "metadata-field/{name}", delete_field)
