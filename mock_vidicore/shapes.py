"""Shape endpoints: list, read, key/value shape metadata, shape tags (reference §4.4)."""

from __future__ import annotations

import re
from typing import Any

from mock_vidicore.context import Context
from mock_vidicore.documents import as_list
from mock_vidicore.errors import invalid_input, not_found
from mock_vidicore.items import shape_document
from mock_vidicore.model import Shape
from mock_vidicore.web import Request, Response, Router, document_response, text_response

# A shape tag name: the mock's field-name rule (fieldtypes.FIELD_NAME), with leading
# underscores allowed as in the system tags `__mp4` and `__png`.
SHAPE_TAG_NAME = re.compile(r"_*[A-Za-z][A-Za-z0-9_]{0,127}")


def check_shape_tag(name: str) -> None:
    """Raise 400 `invalidInput` for a shape tag name the mock refuses (empty, markup, ...)."""
    if len(name) > 128 or not SHAPE_TAG_NAME.fullmatch(name):
        raise invalid_input("shape-tag", "invalid shape tag name", value=name)


_ELEMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}")
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def check_preset(value: Any, depth: int = 0) -> None:
    """Raise 400 unless ``value`` can be stored and answered back as XML: element-name keys,
    scalar leaves without XML-illegal characters, at most 16 levels deep."""
    if depth > 16:
        raise invalid_input("shape-tag", "TranscodePresetDocument nested too deeply")
    if isinstance(value, dict):
        for key, child in value.items():
            if not _ELEMENT_NAME.fullmatch(key):
                raise invalid_input("shape-tag", "TranscodePresetDocument has an invalid element name",
                                    value=key)
            check_preset(child, depth + 1)
    elif isinstance(value, list):
        for member in value:
            check_preset(member, depth + 1)
    elif isinstance(value, str) and _XML_ILLEGAL.search(value):
        raise invalid_input("shape-tag", "TranscodePresetDocument holds characters XML cannot carry")
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        raise invalid_input("shape-tag", "TranscodePresetDocument values must be text or numbers")


def preset_document(tag: str, preset: dict[str, Any]) -> dict[str, Any]:
    """The TranscodePresetDocument (JSON form) of a tag: its `name`, then what was stored."""
    return {"name": tag, **{key: value for key, value in preset.items() if key != "name"}}


def register(router: Router, ctx: Context) -> None:
    """Add the shape and shape-tag routes to ``router``."""
    store = ctx.store

    def shape_of(request: Request) -> Shape:
        item = store.item(request.params["id"])
        for shape in item.shapes:
            if shape.id == request.params["shape"]:
                return shape
        raise not_found("Shape", request.params["shape"])

    def list_shapes(request: Request) -> Response:
        with store.lock:
            tags = request.args("tag")
            ids = [s.id for s in store.item(request.params["id"]).shapes
                   if not tags or set(tags) & set(s.tags)]
            if request.wants_text:
                return text_response("\r\n".join(ids))
            return document_response(request, "URIListDocument", {"hits": len(ids), "uri": ids})

    def get_shape(request: Request) -> Response:
        with store.lock:
            return document_response(request, "ShapeDocument", shape_document(shape_of(request)))

    def metadata_document(shape: Shape, request: Request) -> Response:
        return document_response(request, "SimpleMetadataDocument", {
            "field": [{"key": k, "value": v} for k, v in shape.metadata.items()]})

    def get_metadata(request: Request) -> Response:
        with store.lock:
            return metadata_document(shape_of(request), request)

    def put_metadata(request: Request) -> Response:
        doc = request.document("SimpleMetadataDocument")
        pairs: dict[str, str] = {}
        for field in as_list(doc.get("field")):
            value = field.get("value") if isinstance(field, dict) else None
            value = value[0] if isinstance(value, list) and value else value
            if not isinstance(field, dict) or not isinstance(field.get("key"), str) \
                    or not isinstance(value, (str, int, float)):
                raise invalid_input("metadata", "each field needs a key and a scalar value")
            pairs[field["key"]] = str(value)
        with store.transaction():
            shape = shape_of(request)
            shape.metadata.update(pairs)
            return metadata_document(shape, request)

    def get_key(request: Request) -> Response:
        with store.lock:
            shape = shape_of(request)
            if request.params["key"] not in shape.metadata:
                raise not_found("ShapeMetadata", request.params["key"])
            return text_response(shape.metadata[request.params["key"]])

    def put_key(request: Request) -> Response:
        try:
            value = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid_input("metadata", "shape metadata values are UTF-8 text") from None
        with store.transaction():
            shape_of(request).metadata[request.params["key"]] = value
        return text_response(value)

    def put_tag(request: Request) -> Response:
        with store.transaction():
            shape = shape_of(request)
            if request.params["tag"] not in store.shape_tags:
                raise not_found("ShapeTag", request.params["tag"])
            if request.params["tag"] not in shape.tags:
                shape.tags.append(request.params["tag"])
        return text_response("")

    def delete_tag(request: Request) -> Response:
        with store.transaction():
            shape = shape_of(request)
            if request.params["tag"] not in shape.tags:
                raise not_found("ShapeTag", request.params["tag"])
            shape.tags.remove(request.params["tag"])
        return text_response("")

    def delete_shape(request: Request) -> Response:
        # §4.7: DELETE /item/{id}/shape/{shapeId} (keepFiles: the mock never deletes files).
        with store.transaction():
            shape = shape_of(request)
            store.item(request.params["id"]).shapes.remove(shape)
        return text_response("")

    def list_tags(request: Request) -> Response:
        with store.lock:
            if request.wants_text:
                return text_response("\r\n".join(store.shape_tags))
            return document_response(request, "URIListDocument", {
                "hits": len(store.shape_tags), "uri": list(store.shape_tags)})

    def put_shape_tag(request: Request) -> Response:
        tag = request.params["tag"]
        check_shape_tag(tag)
        doc = request.document("TranscodePresetDocument", required=False)
        check_preset(doc)
        preset = {key: value for key, value in doc.items() if key != "name"}
        with store.transaction():
            if tag not in store.shape_tags:
                store.shape_tags.append(tag)
            store.shape_tag_presets[tag] = preset  # replaces an earlier preset
            return document_response(request, "TranscodePresetDocument", preset_document(tag, preset))

    def put_no_tag(request: Request) -> Response:
        raise invalid_input("shape-tag", "a shape tag name is required")  # `PUT shape-tag/`

    def get_shape_tag(request: Request) -> Response:
        tag = request.params["tag"]
        with store.lock:
            if tag not in store.shape_tags:
                raise not_found("ShapeTag", tag)
            return document_response(request, "TranscodePresetDocument",
                                     preset_document(tag, store.shape_tag_presets.get(tag, {})))

    router.add("GET", "shape-tag", list_tags)
    router.add("GET", "shape-tag/{tag}", get_shape_tag)
    router.add("PUT", "shape-tag/{tag}", put_shape_tag)
    router.add("PUT", "shape-tag", put_no_tag)
    router.add("GET", "item/{id}/shape", list_shapes)
    router.add("GET", "item/{id}/shape/{shape}", get_shape)
    router.add("GET", "item/{id}/shape/{shape}/metadata", get_metadata)
    router.add("PUT", "item/{id}/shape/{shape}/metadata", put_metadata)
    router.add("GET", "item/{id}/shape/{shape}/metadata/{key}", get_key)
    router.add("PUT", "item/{id}/shape/{shape}/metadata/{key}", put_key)
    router.add("PUT", "item/{id}/shape/{shape}/tag/{tag}", put_tag)
    router.add("DELETE", "item/{id}/shape/{shape}/tag/{tag}", delete_tag)
    router.add("DELETE", "item/{id}/shape/{shape}", delete_shape)
