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
        needle = (text.get("value", "") if isinstance(text, dict) else str(text)).lower()
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


def matches(search: Node, tree: list[Node], name: str = "") -> bool:
    """True when an entity's metadata ``tree`` (and collection ``name``) satisfies ``search``."""
    return all(_criteria(search, tree, name))
