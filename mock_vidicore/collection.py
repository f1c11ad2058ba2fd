"""Collection endpoints: create by name, list, search, add/remove items, metadata (reference §6).

Named `collection` (singular) so it never shadows the standard library's `collections`.
"""

from __future__ import annotations

from typing import Any

from mock_vidicore.context import Context
from mock_vidicore.errors import invalid_input, not_found
from mock_vidicore.items import item_list, metadata_view
from mock_vidicore.metadata import Node, write
from mock_vidicore.model import Collection, now_iso
from mock_vidicore.search import matches, read_search
from mock_vidicore.web import Request, Response, Router, document_response, text_response


def create_collection(ctx: Context, name: str, metadata: Node, user: str) -> Collection:
    """Create a collection (caller holds the transaction); its name is mirrored as `title`.

    ``metadata`` is an optional MetadataDocument (JSON form); 400 if it is invalid.
    """
    if not name:
        raise invalid_input("name", "a collection needs a name")
    collection = Collection(id=ctx.store.next_id("collection"), name=name, user=user,
                            created=now_iso())
    stamp = ctx.stamp(user)
    write(collection.metadata, {"timespan": [{"start": "-INF", "end": "+INF", "field": [
        {"name": "title", "value": [{"value": name}]}]}]}, ctx.store.fields, ctx.store.groups, stamp)
    if metadata:
        write(collection.metadata, metadata, ctx.store.fields, ctx.store.groups, stamp)
    ctx.store.collections[collection.id] = collection
    return collection


def collection_document(ctx: Context, collection: Collection, request: Request) -> dict[str, Any]:
    """The CollectionDocument (JSON form): loc, id, name, content, optional metadata."""
    doc: dict[str, Any] = {"loc": f"{ctx.base_url}/API/collection/{collection.id}",
                           "id": collection.id, "name": collection.name,
                           "content": [{"id": i, "type": "item"} for i in collection.items]}
    if "metadata" in request.args("content"):
        doc["metadata"] = metadata_view(collection.metadata, request)
    return doc


def register(router: Router, ctx: Context) -> None:
    """Add the collection routes to ``router``."""
    store = ctx.store

    def answer(request: Request, collection: Collection) -> Response:
        return document_response(request, "CollectionDocument",
                                 collection_document(ctx, collection, request))

    def create(request: Request) -> Response:
        doc = request.document("CollectionDocument", required=False)
        name = request.arg("name") or str(doc.get("name", ""))
        metadata = doc.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise invalid_input("metadata", "collection metadata must be a MetadataDocument")
        with store.transaction():
            return answer(request, create_collection(ctx, name, metadata, request.user))

    def listing(request: Request, found: list[Collection]) -> Response:
        first, number = request.int_arg("first", 1), request.int_arg("number", 100)
        page = found[max(first - 1, 0):max(first - 1, 0) + number]
        return document_response(request, "CollectionListDocument", {
            "hits": len(found),
            "collection": [collection_document(ctx, c, request) for c in page]})

    def list_collections(request: Request) -> Response:
        with store.lock:
            return listing(request, list(store.collections.values()))

    def search(request: Request) -> Response:
        query = read_search(request)
        with store.lock:
            return listing(request, [c for c in store.collections.values()
                                     if matches(query, c.metadata, c.name)])

    def get(request: Request) -> Response:
        with store.lock:
            return answer(request, store.collection(request.params["cid"]))

    def delete(request: Request) -> Response:
        with store.transaction():
            del store.collections[store.collection(request.params["cid"]).id]
        return text_response("")

    def rename(request: Request) -> Response:
        name = request.arg("name")
        with store.transaction():
            collection = store.collection(request.params["cid"])
            if not name:
                raise invalid_input("name", "name is required")
            collection.name = name
            return answer(request, collection)

    def add(request: Request) -> Response:
        if request.arg("type", "item") != "item":
            raise invalid_input("type", "the mock holds only items in collections")
        with store.transaction():
            collection = store.collection(request.params["cid"])
            item = store.item(request.params["entity"])
            if item.id not in collection.items:
                collection.items.append(item.id)
        return text_response("")

    def remove(request: Request) -> Response:
        with store.transaction():
            collection = store.collection(request.params["cid"])
            if request.params["entity"] not in collection.items:
                raise not_found("Item", request.params["entity"])
            collection.items.remove(request.params["entity"])
        return text_response("")

    def items(request: Request) -> Response:
        with store.lock:
            collection = store.collection(request.params["cid"])
            members = [store.items[i] for i in collection.items if i in store.items]
            return document_response(request, "ItemListDocument", item_list(members, request))

    def metadata_answer(request: Request, collection: Collection) -> Response:
        return document_response(request, "MetadataListDocument", {"collection": [
            {"id": collection.id, "metadata": metadata_view(collection.metadata, request)}]})

    def get_metadata(request: Request) -> Response:
        with store.lock:
            return metadata_answer(request, store.collection(request.params["cid"]))

    def put_metadata(request: Request) -> Response:
        doc = request.document("MetadataDocument")
        with store.transaction():
            collection = store.collection(request.params["cid"])
            write(collection.metadata, doc, store.fields, store.groups, ctx.stamp(request.user))
            return metadata_answer(request, collection)

    router.add("POST", "collection", create)
    router.add("GET", "collection", list_collections)
    router.add("PUT", "collection", search)
    router.add("GET", "collection/{cid}", get)
    router.add("DELETE", "collection/{cid}", delete)
    router.add("PUT", "collection/{cid}/rename", rename)
    router.add("GET", "collection/{cid}/item", items)
    router.add("GET", "collection/{cid}/metadata", get_metadata)
    router.add("PUT", "collection/{cid}/metadata", put_metadata)
    router.add("PUT", "collection/{cid}/{entity}", add)
    router.add("DELETE", "collection/{cid}/{entity}", remove)
