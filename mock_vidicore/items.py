"""Item endpoints: read with `content=`, list, search, delete, metadata, URIs, collections of an item."""

from __future__ import annotations

from typing import Any

from mock_vidicore.context import Context
from mock_vidicore.errors import invalid_input
from mock_vidicore.metadata import Node, render_tree, write
from mock_vidicore.model import Item, Shape
from mock_vidicore.search import matches, read_search
from mock_vidicore.web import Request, Response, Router, document_response, text_response

CONTENT = frozenset({"metadata", "uri", "shape", "thumbnail", "poster", "access",
                     "merged-access", "external"})


def shape_document(shape: Shape) -> dict[str, Any]:
    """The ShapeDocument (JSON form): tags, MIME type, container file, key/value metadata."""
    doc: dict[str, Any] = {"id": shape.id, "essenceVersion": "0", "tag": list(shape.tags),
                           "mimeType": shape.mime_type}
    if shape.file is not None:
        file = shape.file
        doc["containerComponent"] = {"id": shape.component_id, "file": [{
            "id": file.id, "path": file.path, "uri": [file.uri], "state": file.state,
            "size": str(file.size), "timestamp": file.timestamp, "storage": file.storage or None}]}
    doc["metadata"] = {"field": [{"key": k, "value": v} for k, v in shape.metadata.items()]}
    return doc


def uris_of(item: Item, tags: list[str], schemes: list[str]) -> list[str]:
    """The file URIs of an item's shapes, filtered by shape tag and URI scheme (empty = any)."""
    return [shape.file.uri for shape in item.shapes if shape.file is not None
            and (not tags or set(tags) & set(shape.tags))
            and (not schemes or shape.file.uri.split(":", 1)[0] in schemes)]


def metadata_view(tree: list[Node], request: Request) -> dict[str, Any]:
    """A MetadataDocument body for output, honouring the `field` and `interval` filters."""
    interval = request.arg("interval", "all")
    if interval not in ("all", "generic"):
        raise invalid_input("interval", "the mock supports interval=all or generic", value=interval)
    names = request.args("field") or None
    return {"timespan": render_tree(tree, names, interval)}


def item_document(item: Item, request: Request) -> dict[str, Any]:
    """The ItemDocument for ``item`` with the parts named by `content` (or `p`)."""
    content = set(request.args("content"))
    unknown = content - CONTENT
    if unknown:
        raise invalid_input("content", f"unknown content {sorted(unknown)}")
    doc: dict[str, Any] = {"id": item.id}
    if "metadata" in content:
        doc["metadata"] = metadata_view(item.metadata, request)
    if "uri" in content:
        tags, types = request.args("tag"), request.args("type")
        if not tags and not types:
            raise invalid_input("content", "content=uri needs a tag or type parameter")
        doc["files"] = {"uri": uris_of(item, tags, request.args("scheme"))}
    if "shape" in content:
        tags = request.args("tag")
        doc["shape"] = [shape_document(s) for s in item.shapes
                        if not tags or set(tags) & set(s.tags)]
    return doc


def item_list(items: list[Item], request: Request) -> dict[str, Any]:
    """An ItemListDocument page (`first` is 1-based, `number` the page size)."""
    first, number = request.int_arg("first", 1), request.int_arg("number", 100)
    page = items[max(first - 1, 0):max(first - 1, 0) + number]
    return {"hits": len(items), "item": [item_document(i, request) for i in page]}


def register(router: Router, ctx: Context) -> None:
    """Add the item routes to ``router``."""
    store = ctx.store

    def get_item(request: Request) -> Response:
        with store.lock:
            item = store.item(request.params["id"])
            return document_response(request, "ItemDocument", item_document(item, request))

    def list_items(request: Request) -> Response:
        with store.lock:
            return document_response(request, "ItemListDocument",
                                     item_list(list(store.items.values()), request))

    def search_items(request: Request) -> Response:
        search = read_search(request)
        with store.lock:
            found = [i for i in store.items.values() if matches(search, i.metadata)]
            return document_response(request, "ItemListDocument", item_list(found, request))

    def delete_item(request: Request) -> Response:
        with store.transaction():
            item = store.item(request.params["id"])
            del store.items[item.id]
            for collection in store.collections.values():
                if item.id in collection.items:
                    collection.items.remove(item.id)
        return text_response("")

    def metadata_list(request: Request, item: Item) -> Response:
        return document_response(request, "MetadataListDocument", {"item": [
            {"id": item.id, "metadata": metadata_view(item.metadata, request)}]})

    def get_metadata(request: Request) -> Response:
        with store.lock:
            return metadata_list(request, store.item(request.params["id"]))

    def put_metadata(request: Request) -> Response:
        doc = request.document("MetadataDocument")
        with store.transaction():
            item = store.item(request.params["id"])
            write(item.metadata, doc, store.fields, store.groups, ctx.stamp(request.user))
            return metadata_list(request, item)

    def get_uris(request: Request) -> Response:
        with store.lock:
            item = store.item(request.params["id"])
            uris = uris_of(item, request.args("tag"), request.args("scheme"))
            if request.wants_text:
                return text_response("\r\n".join(uris))
            return document_response(request, "URIListDocument", {"hits": len(uris), "uri": uris})

    def collections_of(request: Request) -> Response:
        with store.lock:
            item = store.item(request.params["id"])
            found = [c for c in store.collections.values() if item.id in c.items]
            return document_response(request, "CollectionListDocument", {
                "hits": len(found), "collection": [{"id": c.id, "name": c.name} for c in found]})

    router.add("GET", "item", list_items)
    router.add("PUT", "item", search_items)
    router.add("GET", "item/{id}", get_item)
    router.add("DELETE", "item/{id}", delete_item)
    router.add("GET", "item/{id}/metadata", get_metadata)
    router.add("PUT", "item/{id}/metadata", put_metadata)
    router.add("GET", "item/{id}/uri", get_uris)
    router.add("GET", "item/{id}/collections", collections_of)
