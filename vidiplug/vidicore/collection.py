"""Collection calls: find by exact name, create, ensure, members, add/remove, metadata.

Part of VidiCoreClient; speaks HTTP only through Transport. Named ``collection`` so it
never shadows the standard library's ``collections``.
"""

from __future__ import annotations

from contextlib import suppress

from vidiplug.errors import NotFound
from vidiplug.vidicore.documents import MetadataTimespans, parse_metadata_list, require, text_of
from vidiplug.vidicore.ids import oldest
from vidiplug.vidicore.transport import Transport, segment


class CollectionCalls(Transport):
    """``/API/collection/...``."""

    def find_collection(self, name: str) -> str | None:
        """The id of the oldest (lowest id) collection named exactly ``name``, or None.

        VidiCore's text search also matches parts of names and metadata values, so every
        hit is compared with ``name`` character for character.
        """
        exact = [require(entry, "id", "CollectionListDocument collection")
                 for entry in self._pages("PUT", "collection", "collection", json={"text": [{"value": name}]})
                 if text_of(entry.get("name")) == name]
        return oldest(exact) if exact else None

    def create_collection(self, name: str) -> str:
        """Create a collection named ``name`` (even if one exists; see ``ensure_collection``); its id."""
        doc = self._json("POST", "collection", params=[("name", name)])
        return require(doc, "id", "CollectionDocument")

    def delete_collection(self, collection_id: str) -> None:
        """Remove collection ``collection_id`` (its items stay); NotFound if absent."""
        self._send("DELETE", f"collection/{segment(collection_id)}", accept_text=True)

    def ensure_collection(self, name: str) -> str:
        """The id of the oldest collection named ``name``, created when there is none.

        Safe when several processes ensure one new name at once: after creating, it looks
        again and keeps the oldest; a collection it created that lost is deleted again.
        """
        found = self.find_collection(name)
        if found is not None:
            return found
        created = self.create_collection(name)
        winner = self.find_collection(name)
        if winner is None or winner == created:
            return created
        with suppress(NotFound):  # already gone: nothing left to tidy
            self.delete_collection(created)
        return winner

    def collection_items(self, collection_id: str) -> list[str]:
        """The ids of the items in collection ``collection_id``, in VidiCore's order (all pages)."""
        path = f"collection/{segment(collection_id)}/item"
        return [require(entry, "id", "ItemListDocument item") for entry in self._pages("GET", path, "item")]

    def add_to_collection(self, collection_id: str, item_id: str) -> None:
        """Put item ``item_id`` into collection ``collection_id`` (no effect if it is there)."""
        self._send("PUT", f"collection/{segment(collection_id)}/{segment(item_id)}",
                   params=[("type", "item")], accept_text=True)

    def remove_from_collection(self, collection_id: str, item_id: str) -> None:
        """Take item ``item_id`` out of collection ``collection_id``; the item itself stays.

        Raises NotFound when the item is not in the collection.
        """
        self._send("DELETE", f"collection/{segment(collection_id)}/{segment(item_id)}",
                   params=[("type", "item")], accept_text=True)

    def collection_metadata(self, collection_id: str) -> MetadataTimespans:
        """Every metadata timespan of collection ``collection_id`` as plain JSON dicts."""
        doc = self._json("GET", f"collection/{segment(collection_id)}/metadata")
        return parse_metadata_list(doc, "collection")
