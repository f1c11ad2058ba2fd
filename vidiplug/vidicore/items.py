"""Item calls: read items and their media URIs, metadata, search, import, shape metadata, fields.

Part of VidiCoreClient; speaks HTTP only through Transport.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vidiplug.errors import MediaError, NotFound, VidiCoreError
from vidiplug.vidicore.documents import (
    Item,
    JobState,
    JsonObject,
    MetadataTimespans,
    as_list,
    parse_item,
    parse_job,
    parse_metadata_list,
    require,
    text_of,
)
from vidiplug.vidicore.transport import Transport, segment

DEFAULT_CONTENT = ("metadata", "uri", "shape")


class ItemCalls(Transport):
    """``/API/item/...``, ``/API/import/...`` and ``/API/metadata-field/...``."""

    def get_item(self, item_id: str, content: Sequence[str] = DEFAULT_CONTENT, *, tag: str | None = None) -> Item:
        """Item ``item_id`` with the parts named in ``content`` (``metadata``, ``uri``, ``shape``).

        ``tag`` keeps only shapes (and URIs) with that shape tag. Without a tag, ``uri``
        gives the file URIs of every shape (VidiCore itself wants a tag for ``uri``, so the
        client reads the shapes instead). Raises NotFound for an unknown item.
        """
        wanted = list(dict.fromkeys(content))
        all_uris = "uri" in wanted and tag is None
        if all_uris:
            wanted = [c for c in wanted if c != "uri"] + ([] if "shape" in wanted else ["shape"])
        params = [("content", ",".join(wanted))] + ([("tag", tag)] if tag is not None else [])
        item = parse_item(self._json("GET", f"item/{segment(item_id)}", params=params))
        if not all_uris:
            return item
        uris = tuple(u for shape in item.shapes for u in shape.uris)
        shapes = item.shapes if "shape" in content else ()
        return Item(item.id, item.fields, item.timespans, shapes, uris)

    def item_uris(self, item_id: str, tag: str = "original") -> list[str]:
        """The file URIs of item ``item_id``'s shapes tagged ``tag`` (``s3://``, ``file://``, ...)."""
        doc = self._json("GET", f"item/{segment(item_id)}/uri", params=[("tag", tag)])
        return [u for u in map(text_of, as_list(doc.get("uri"))) if u]

    def get_item_metadata(self, item_id: str) -> MetadataTimespans:
        """Every metadata timespan of item ``item_id`` as plain JSON dicts (fields, groups, uuids)."""
        return parse_metadata_list(self._json("GET", f"item/{segment(item_id)}/metadata"), "item")

    def put_item_metadata(self, item_id: str, document: Mapping[str, Any]) -> None:
        """Write a MetadataDocument (JSON form, ``{"timespan": [...]}``) to item ``item_id``.

        One change set: fields named are replaced, groups without a uuid are added (see
        VidiCore's merge rules). Raises VidiCoreError (400) for an undefined field or a
        value that does not fit its field's type; then nothing is written.
        """
        self._send("PUT", f"item/{segment(item_id)}/metadata", json=dict(document))

    def search_items(self, field: str, value: str) -> list[str]:
        """Ids of the items whose field ``field`` has the value ``value`` (case-insensitive; ``*`` is a wildcard)."""
        query = {"field": [{"name": field, "value": [{"value": value}]}]}
        pages = self._pages("PUT", "item", "item", json=query)
        return [require(entry, "id", "ItemListDocument item") for entry in pages]

    def search_items_with_fields(self, field: str, value: str, fields: Sequence[str]) -> list[Item]:
        """The items whose field ``field`` matches ``value`` (``*`` is a wildcard), with metadata.

        Each Item carries only the fields named in ``fields`` (VidiCore's ``field=``
        filter), so one paged search answers "which items hold which of these values":
        ``search_items_with_fields("vcs_face_externalId", "*", ["vcs_face_externalId",
        "vcs_face_value"])`` lists every fingerprint item with its name. Matching is
        case-insensitive and may see the value anywhere in the item's metadata: compare
        ``Item.fields`` exactly before relying on a hit.
        """
        query = {"field": [{"name": field, "value": [{"value": value}]}]}
        params = [("content", "metadata"), ("field", ",".join(dict.fromkeys([field, *fields])))]
        return [parse_item(entry) for entry in self._pages("PUT", "item", "item", params=params, json=query)]

    def delete_item(self, item_id: str) -> None:
        """Delete item ``item_id`` (it also leaves every collection). Raises NotFound if it is gone."""
        self._send("DELETE", f"item/{segment(item_id)}", accept_text=True)

    def import_placeholder_with_file(self, path: Path, metadata: Mapping[str, Any] | None = None,
                                     timeout_s: float = 600.0) -> str:
        """Create an item from the local file ``path``; its id.

        A placeholder item gets ``metadata`` (a MetadataDocument in JSON form, or None), then
        the bytes of ``path`` are uploaded as its container (the shape is tagged
        ``original``; VidiCore stores the file under the file's name). VidiCore imports
        asynchronously: this waits (up to ``timeout_s``) until the import job has FINISHED, so
        the shape exists on return. Raises MediaError when ``path`` is not a readable file,
        VidiCoreError when the import job fails or does not end in time.
        """
        if not path.is_file():
            raise MediaError(str(path), "no such file to import")
        doc = self._json("POST", "import/placeholder", params=[("container", "1")],
                         json=dict(metadata) if metadata is not None else None)
        item_id = require(doc, "id", "ItemDocument")
        raw = f"import/placeholder/{segment(item_id)}/container/raw"
        try:
            with path.open("rb") as media:
                answer = self._send("POST", raw, params=[("filename", path.name)], data=media,
                                    headers={"Content-Type": "application/octet-stream"})
        except OSError as exc:
            raise MediaError(str(path), f"cannot read: {exc.strerror or exc}") from exc
        self._wait_for_import(parse_job(answer.json()).id, raw, timeout_s)
        return item_id

    def _wait_for_import(self, job_id: str, path: str, timeout_s: float) -> None:
        """Poll ``GET job/{job_id}`` until the import job ends; VidiCoreError unless it FINISHED."""
        deadline = time.monotonic() + timeout_s
        pause = 0.05
        while True:
            job = parse_job(self._json("GET", f"job/{segment(job_id)}"))
            if job.state in (JobState.FINISHED, JobState.FINISHED_WARNING):
                return
            if job.state.is_terminal or job.state is JobState.ABORT_PENDING:
                raise VidiCoreError(f"import job {job_id} ended {job.state.value}: {job.failure_reason or ''}".strip(),
                                    method="POST", path=path)
            if time.monotonic() > deadline:
                raise VidiCoreError(f"import job {job_id} still {job.state.value} after {timeout_s:g} s",
                                    method="POST", path=path)
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def set_shape_metadata(self, item_id: str, shape_id: str, key: str, value: str) -> None:
        """Set key/value metadata ``key`` of shape ``shape_id`` of item ``item_id`` (text value)."""
        self._send("PUT", f"item/{segment(item_id)}/shape/{segment(shape_id)}/metadata/{segment(key)}",
                   data=value.encode("utf-8"), headers={"Content-Type": "text/plain; charset=utf-8"},
                   accept_text=True)

    def get_field(self, name: str) -> JsonObject | None:
        """The definition of metadata field ``name`` (``name``, ``type``, ...), or None if undefined."""
        try:
            return self._json("GET", f"metadata-field/{segment(name)}")
        except NotFound:
            return None
