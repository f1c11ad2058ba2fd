"""ItemSearchDocument matching for `PUT /API/item` and `PUT /API/collection` (reference §5.5).

Supported: `field` (name + values, `*` wildcards, case-insensitive), `operator`
(AND/OR/NOT, nestable), `filter` (treated like operator), `text` (substring of
any value or of a collection's name). Top-level criteria are ANDed.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from mock_vidicore.documents import as_list
from mock_vidicore.errors import invalid_input
from mock_vidicore.metadata import Node, generic_values
from mock_vidicore.web import Request


def _all_values(tree: list[Node]) -> list[str]:
    found: list[str] = []

    def walk(node: Node) -> None:
        for field in node.get("field", []):
            found.extend(v["value"] for v in field["value"])
        for group in node.get("group", []):
            walk(group)

    for span in tree:
        walk(span)
    return found


def _field_matches(tree: list[Node], field: Any) -> bool:
    if not isinstance(field, dict) or not isinstance(field.get("name"), str):
        raise invalid_input("search", "a search field needs a name")
    wanted = [str(v.get("value", "")) if isinstance(v, dict) else str(v)
              for v in as_list(field.get("value"))]
    wanted = ["true" if w == "True" else "false" if w == "False" else w for w in wanted]
    have = generic_values(tree, field["name"])
    return any(fnmatchcase(h.lower(), w.lower()) for h in have for w in wanted)


def _criteria(node: Node, tree: list[Node], name: str) -> list[bool]:
    results = [_field_matches(tree, f) for f in as_list(node.get("field"))]
    results += [_operator(op, tree, name) for key in ("operator", "filter")
                for op in as_list(node.get(key))]
    for text in as_list(node.get("text")):
        needle = str(text["value"]).lower()
        results.append(needle in name.lower() or any(needle in v.lower()
                                                      for v in _all_values(tree)))
    return results


def _operator(node: Any, tree: list[Node], name: str) -> bool:
    if not isinstance(node, dict):
        raise invalid_input("search", "an operator must be an object")
    operation = str(node.get("operation", "AND")).upper()
    results = _criteria(node, tree, name)
    if operation == "OR":
        return any(results)
    if operation == "NOT":
        return not any(results)
    if operation == "AND":
        return all(results)
    raise invalid_input("search", f"unknown operation {operation}", value=operation)


def _check_text(node: Any, from_xml: bool) -> None:
    """VidiCore's `text` is a list of `{value}` objects in JSON (SDK `ItemSearchType`, the face UI's
    `text:[{value}]`); XML's `<text>free text</text>` is turned into that form. 400 otherwise."""
    if not isinstance(node, dict):
        return
    if from_xml and isinstance(node.get("text"), str):
        node["text"] = [{"value": node["text"]}]
    if "text" in node:
        texts = node["text"]
        if not isinstance(texts, list) or not all(
                isinstance(t, dict) and isinstance(t.get("value"), str) for t in texts):
            raise invalid_input("search", 'text must be a list of {"value": "..."} objects, '
                                          'e.g. {"text": [{"value": "free text"}]}')
    for key in ("operator", "filter"):
        for child in as_list(node.get(key)):
            _check_text(child, from_xml)


def read_search(request: Request) -> Node:
    """The request's ItemSearchDocument (empty: match everything), its `text` checked as VidiCore's."""
    search = request.document("ItemSearchDocument", required=False)
    _check_text(search, from_xml=not request.body_is_json())
    return search


def matches(search: Node, tree: list[Node], name: str = "") -> bool:
    """True when an entity's metadata ``tree`` (and collection ``name``) satisfies ``search``."""
    return all(_criteria(search, tree, name))
