"""The Store: every entity behind one lock, `VX-n` id sequences, optional JSON persistence.

Handlers mutate entities only inside ``with store.transaction():`` so writes are
serialised and saved. Imports the model and nothing that speaks HTTP.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mock_vidicore.errors import not_found
from mock_vidicore.model import (
    Collection,
    FieldDefinition,
    FieldGroup,
    Item,
    Job,
    Resource,
    Storage,
    item_from_plain,
    storage_from_plain,
    to_plain,
)

SITE = "VX"

# Core fields every VidiCore has before any configuration (a small subset).
SYSTEM_FIELDS = {
    "title": "string", "originalFilename": "string", "mimeType": "string",
    "mediaType": "string", "durationSeconds": "float", "durationTimeCode": "timeCode",
    "created": "date", "user": "string", "itemId": "string",
}
SYSTEM_SHAPE_TAGS = ["original", "__mp4", "__png", "lowres"]


class Store:
    """All mock state. ``lock`` is re-entrant; ``transaction()`` saves on exit when persistent."""

    def __init__(self, state_file: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.state_file = state_file
        self.counters: dict[str, int] = {}
        self.resources: dict[str, Resource] = {}
        self.storages: dict[str, Storage] = {}
        self.items: dict[str, Item] = {}
        self.collections: dict[str, Collection] = {}
        self.jobs: dict[str, Job] = {}
        self.fields: dict[str, FieldDefinition] = {
            name: FieldDefinition(name, kind, system=True) for name, kind in SYSTEM_FIELDS.items()}
        self.groups: dict[str, FieldGroup] = {}
        self.shape_tags: list[str] = list(SYSTEM_SHAPE_TAGS)
        # TranscodePresetDocuments stored by `PUT shape-tag/{tag}` (JSON form, without `name`).
        self.shape_tag_presets: dict[str, dict[str, Any]] = {}
        self.job_types: dict[str, str] = {}
        if state_file is not None and state_file.is_file():
            self._load(state_file)

    def next_id(self, kind: str) -> str:
        """The next `VX-n` id for an entity kind (ids are unique per kind only)."""
        with self.lock:
            self.counters[kind] = self.counters.get(kind, 0) + 1
            return f"{SITE}-{self.counters[kind]}"

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the lock for a read-modify-write; persist the state afterwards."""
        with self.lock:
            yield self
            self.save()

    def item(self, item_id: str) -> Item:
        """The item with this id, or 404 `notFound` type Item."""
        try:
            return self.items[item_id]
        except KeyError:
            raise not_found("Item", item_id) from None

    def collection(self, collection_id: str) -> Collection:
        """The collection with this id, or 404 `notFound` type Collection."""
        try:
            return self.collections[collection_id]
        except KeyError:
            raise not_found("Collection", collection_id) from None

    def job(self, job_id: str) -> Job:
        """The job with this id, or 404 `notFound` type Job."""
        try:
            return self.jobs[job_id]
        except KeyError:
            raise not_found("Job", job_id) from None

    def resource(self, resource_id: str) -> Resource:
        """The resource with this id, or 404 `notFound` type Resource."""
        try:
            return self.resources[resource_id]
        except KeyError:
            raise not_found("Resource", resource_id) from None

    def storage(self, storage_id: str) -> Storage:
        """The storage with this id, or 404 `notFound` type Storage."""
        try:
            return self.storages[storage_id]
        except KeyError:
            raise not_found("Storage", storage_id) from None

    def save(self) -> None:
        """Write the whole state atomically to the state file (no-op without one)."""
        if self.state_file is None:
            return
        with self.lock:
            data: dict[str, Any] = {
                "counters": self.counters,
                "resources": [to_plain(r) for r in self.resources.values()],
                "storages": [to_plain(s) for s in self.storages.values()],
                "items": [to_plain(i) for i in self.items.values()],
                "collections": [to_plain(c) for c in self.collections.values()],
                "jobs": [to_plain(j) for j in self.jobs.values()],
                "fields": [to_plain(f) for f in self.fields.values() if not f.system],
                "groups": [to_plain(g) for g in self.groups.values()],
                "shape_tags": self.shape_tags,
                "shape_tag_presets": self.shape_tag_presets,
                "job_types": self.job_types,
            }
            temporary = self.state_file.with_name(self.state_file.name + ".tmp")
            temporary.write_text(json.dumps(data), encoding="utf-8")
            os.replace(temporary, self.state_file)

    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.counters = data["counters"]
        self.resources = {r["id"]: Resource(**r) for r in data["resources"]}
        # .get: state files written before storages existed load unchanged.
        self.storages = {s["id"]: storage_from_plain(s) for s in data.get("storages", [])}
        self.items = {i["id"]: item_from_plain(i) for i in data["items"]}
        self.collections = {c["id"]: Collection(**c) for c in data["collections"]}
        self.jobs = {j["id"]: Job(**j) for j in data["jobs"]}
        self.fields.update({f["name"]: FieldDefinition(**f) for f in data["fields"]})
        self.groups = {g["name"]: FieldGroup(**g) for g in data["groups"]}
        self.shape_tags = data["shape_tags"]
        self.shape_tag_presets = data.get("shape_tag_presets", {})  # absent in older state files
        self.job_types = data["job_types"]
