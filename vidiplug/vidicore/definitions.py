"""Definition calls: metadata fields, field groups, shape tags and collection metadata (reference §5.4, §4.4, §6).

Part of VidiCoreClient. These are the documented endpoints a self-hosted VidiCore offers for
what a VidiNet service configuration would otherwise create; each call is idempotent (PUT),
so registering again after a restart changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vidiplug.vidicore.transport import Transport, segment


class DefinitionCalls(Transport):
    """``/API/metadata-field/...``, ``/API/shape-tag/...`` and ``PUT /API/collection/{id}/metadata``."""

    def define_field(self, name: str, kind: str) -> None:
        """Create or update metadata field ``name`` of type ``kind`` (``string``, ``boolean``, ``float`` ...)."""
        self._send("PUT", f"metadata-field/{segment(name)}", json={"type": kind})

    def define_field_group(self, name: str, fields: Sequence[str] = (), groups: Sequence[str] = ()) -> None:
        """Create field group ``name`` (if absent), then add each of ``fields`` and the (existing) ``groups`` to it."""
        self._send("PUT", f"metadata-field/field-group/{segment(name)}", json={}, accept_text=True)
        for field_name in fields:
            self._send("PUT", f"metadata-field/field-group/{segment(name)}/{segment(field_name)}", accept_text=True)
        for child in groups:
            self._send("PUT", f"metadata-field/field-group/{segment(name)}/group/{segment(child)}",
                       accept_text=True)

    def define_shape_tag(self, tag: str) -> None:
        """Create shape tag ``tag`` (a TranscodePresetDocument with only its name: no transcoding)."""
        self._send("PUT", f"shape-tag/{segment(tag)}", json={"name": tag}, accept_text=True)

    def put_collection_metadata(self, collection_id: str, document: Mapping[str, Any]) -> None:
        """Write a MetadataDocument (JSON form) to collection ``collection_id``; one change set."""
        self._send("PUT", f"collection/{segment(collection_id)}/metadata", json=dict(document))
