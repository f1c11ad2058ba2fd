"""VidiCore's metadata model: reading a MetadataDocument, checking it, merging it into a tree.

Merge rules (reference §5.2 plus the README's documented choices): timespans
match on start/end; fields match by uuid or name and their values are
replaced (`mode="add"` appends, `mode="remove"` deletes); groups with a uuid
are updated in place, groups without one are added, `mode="remove"` deletes.
Every written group/field/value gets uuid, user, timestamp and change.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass
from typing import Any

from mock_vidicore.documents import as_list
from mock_vidicore.errors import invalid_input
from mock_vidicore.fieldtypes import TIME_CODE, check_value
from mock_vidicore.model import FieldDefinition, FieldGroup

Node = dict[str, Any]


@dataclass(frozen=True)
class Stamp:
    """Who wrote a change set, when, and its change id (`VX-n`)."""

    user: str
    timestamp: str
    change: str

    def attributes(self) -> Node:
        """The bookkeeping attributes for a freshly written node."""
        return {"uuid": str(uuidlib.uuid4()), "user": self.user,
                "timestamp": self.timestamp, "change": self.change}


def timespans_of(doc: Node) -> list[Node]:
    """The timespans of a MetadataDocument in JSON form, checked for shape and time codes."""
    spans = as_list(doc.get("timespan"))
    for span in spans:
        if not isinstance(span, dict):
            raise invalid_input("metadata", "a timespan must be an object")
        for key in ("start", "end"):
            span.setdefault(key, "-INF" if key == "start" else "+INF")
            if not isinstance(span[key], str) or not TIME_CODE.fullmatch(span[key]):
                raise invalid_input("metadata", f"invalid time code {span[key]!r}")
    return spans


def _values(field: Node) -> list[Node]:
    values = []
    for value in as_list(field.get("value")):
        if isinstance(value, dict):
            text = value.get("value", "")
            values.append({**value, "value": _scalar(text)})
        else:
            values.append({"value": _scalar(value)})
    return values


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise invalid_input("metadata", f"a metadata value must be a scalar, got {type(value).__name__}")


def check_tree(container: Node, fields: dict[str, FieldDefinition],
               groups: dict[str, FieldGroup]) -> None:
    """Raise 400 unless every field/group used exists and every value fits its field's type."""
    for field in as_list(container.get("field")):
        name = field.get("name") if isinstance(field, dict) else None
        if not isinstance(name, str) or not name:
            raise invalid_input("metadata", "a field needs a name")
        definition = fields.get(name)
        if definition is None:
            raise invalid_input("metadata", f"metadata field {name!r} does not exist", entity_id=name)
        if field.get("mode") != "remove":
            for value in _values(field):
                if value.get("mode") != "remove":
                    check_value(definition, value["value"])
    for group in as_list(container.get("group")):
        name = group.get("name") if isinstance(group, dict) else None
        if not isinstance(name, str) or name not in groups:
            raise invalid_input("metadata", f"metadata field group {name!r} does not exist",
                                entity_id=str(name))
        check_tree(group, fields, groups)


def merge(tree: list[Node], incoming: list[Node], stamp: Stamp) -> None:
    """Merge incoming timespans into ``tree`` in place, then drop timespans left empty."""
    for source in incoming:
        target = next((span for span in tree if span["start"] == source["start"]
                       and span["end"] == source["end"]), None)
        if target is None:
            target = {"start": source["start"], "end": source["end"], "field": [], "group": []}
            tree.append(target)
        _merge_container(target, source, stamp)
    tree[:] = [span for span in tree if span["field"] or span["group"]]


def _merge_container(target: Node, source: Node, stamp: Stamp) -> None:
    for field in as_list(source.get("field")):
        _merge_field(target, field, stamp)
    for group in as_list(source.get("group")):
        _merge_group(target, group, stamp)


def _find(nodes: list[Node], node_uuid: str, what: str) -> Node:
    for node in nodes:
        if node.get("uuid") == node_uuid:
            return node
    raise invalid_input("metadata", f"no {what} with uuid {node_uuid}", entity_id=node_uuid)


def _merge_field(target: Node, field: Node, stamp: Stamp) -> None:
    existing: list[Node] = target["field"]
    if field.get("uuid"):
        match: Node | None = _find(existing, field["uuid"], "field")
    else:
        match = next((f for f in existing if f["name"] == field["name"]), None)
    if field.get("mode") == "remove":
        if match is not None:
            existing.remove(match)
        return
    values = _values(field)
    removals = [v for v in values if v.get("mode") == "remove"]
    additions = [{**stamp.attributes(), "value": v["value"]}
                 for v in values if v.get("mode") != "remove"]
    if match is None:
        existing.append({"name": field["name"], **stamp.attributes(), "value": additions})
        return
    match.update({"user": stamp.user, "timestamp": stamp.timestamp, "change": stamp.change})
    kept = [v for v in match["value"] if not any(
        v["uuid"] == r.get("uuid") or (not r.get("uuid") and v["value"] == r["value"])
        for r in removals)]
    if field.get("mode") == "add" or (removals and not additions):
        match["value"] = kept + additions
    else:
        match["value"] = additions


def _merge_group(target: Node, group: Node, stamp: Stamp) -> None:
    existing: list[Node] = target["group"]
    if group.get("mode") == "remove":
        if group.get("uuid"):
            existing.remove(_find(existing, group["uuid"], "group"))
        else:
            existing[:] = [g for g in existing if g["name"] != group["name"]]
        return
    if group.get("uuid"):
        match = _find(existing, group["uuid"], "group")
        match.update({"user": stamp.user, "timestamp": stamp.timestamp, "change": stamp.change})
    else:
        match = {"name": group["name"], **stamp.attributes(), "field": [], "group": []}
        existing.append(match)
    _merge_container(match, group, stamp)


def render_tree(tree: list[Node], field_filter: list[str] | None = None,
                interval: str = "all") -> list[Node]:
    """Timespans for output: empty lists dropped; ``field_filter`` keeps only named fields.

    ``interval`` is `all` or `generic` (only the -INF..+INF timespan).
    """
    out = []
    for span in tree:
        if interval == "generic" and (span["start"], span["end"]) != ("-INF", "+INF"):
            continue
        rendered = _render_node(span, field_filter)
        if rendered.get("field") or rendered.get("group"):
            out.append(rendered)
    return out


def _render_node(node: Node, field_filter: list[str] | None) -> Node:
    result = {k: v for k, v in node.items() if k not in ("field", "group")}
    fields = [f for f in node.get("field", []) if field_filter is None or f["name"] in field_filter]
    groups = [_render_node(g, field_filter) for g in node.get("group", [])]
    if field_filter is not None:
        groups = [g for g in groups if g.get("field") or g.get("group")]
    if fields:
        result["field"] = fields
    if groups:
        result["group"] = groups
    return result


def generic_values(tree: list[Node], name: str) -> list[str]:
    """All values of field ``name`` anywhere in the tree (used by searches)."""
    found: list[str] = []

    def walk(node: Node) -> None:
        for field in node.get("field", []):
            if field["name"] == name:
                found.extend(v["value"] for v in field["value"])
        for group in node.get("group", []):
            walk(group)

    for span in tree:
        walk(span)
    return found


def write(tree: list[Node], doc: Node, fields: dict[str, FieldDefinition],
          groups: dict[str, FieldGroup], stamp: Stamp) -> None:
    """Check a MetadataDocument against the field registry and merge it into ``tree``.

    Raises 400 `invalidInput` before touching ``tree`` if any timespan, field,
    group or value is wrong, so a rejected write changes nothing.
    """
    spans = timespans_of(doc)
    for span in spans:
        check_tree(span, fields, groups)
    merge(tree, spans, stamp)
