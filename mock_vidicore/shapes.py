"""Shape endpoints: list, read, key/value shape metadata, shape tags (reference §4.4)."""

from __future__ import annotations

from mock_vidicore.context import Context
from mock_vidicore.documents import as_list
from mock_vidicore.errors import invalid_input, not_found
from mock_vidicore.items import shape_document
from mock_vidicore.model import Shape
from mock_vidicore.web import Request, Response, Router, document_response, text_response


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

    def list_tags(request: Request) -> Response:
        with store.lock:
            if request.wants_text:
                return text_response("\r\n".join(store.shape_tags))
            return document_response(request, "URIListDocument", {
                "hits": len(store.shape_tags), "uri": list(store.shape_tags)})

    router.add("GET", "shape-tag", list_tags)
    router.add("GET", "item/{id}/shape", list_shapes)
    router.add("GET", "item/{id}/shape/{shape}", get_shape)
    router.add("GET", "item/{id}/shape/{shape}/metadata", get_metadata)
    router.add("PUT", "item/{id}/shape/{shape}/metadata", put_metadata)
    router.add("GET", "item/{id}/shape/{shape}/metadata/{key}", get_key)
    router.add("PUT", "item/{id}/shape/{shape}/metadata/{key}", put_key)
    router.add("PUT", "item/{id}/shape/{shape}/tag/{tag}", put_tag)
    router.add("DELETE", "item/{id}/shape/{shape}/tag/{tag}", delete_tag)
