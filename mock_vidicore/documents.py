"""VidiCore documents on the wire: hardened XML parsing, XML/JSON rendering, one JSON-shaped model.

Every document lives in memory in its JSON form (reference §1.2): no root
wrapper, repeatable elements as arrays, attributes as keys. XML is built from
that form with lxml's element API. Imports only lxml and the error tree.
"""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

from mock_vidicore.errors import invalid_input

NS = "http://xml.vidispine.com/schema/vidispine"

Doc = dict[str, Any]

# Elements of incoming documents that may repeat, hence always arrays once parsed.
REPEATED = frozenset({
    "timespan", "field", "group", "item", "collection", "resource", "data", "job",
    "operator", "filter", "metadataField", "fieldGroup", "shapeTag", "taskDefinition",
    "method",
})
# Keys rendered as XML attributes wherever they appear.
ATTRIBUTES = frozenset({"start", "end", "uuid", "user", "timestamp", "change", "mode",
                        "operation", "version", "lang", "track", "sortable"})
# Elements whose `id` is an attribute (`<ItemDocument id="VX-1">`, `<item id=...>`).
ID_ATTRIBUTE_ON = frozenset({"ItemDocument", "item"})

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          dtd_validation=False, huge_tree=False, remove_comments=True,
                          remove_pis=True)


def parse_xml(body: bytes, root: str) -> Doc:
    """Parse an XML document into its JSON form; raise 400 for anything hostile or malformed.

    ``root`` is the expected root element name (namespace optional: the
    vidispine namespace or none). A DOCTYPE, an entity declaration or an
    entity reference is refused outright, before and after parsing.
    """
    lowered = body[:4096].lower().replace(b"\x00", b"")
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise invalid_input("body", "DOCTYPE and entity declarations are not allowed")
    try:
        element = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise invalid_input("body", f"malformed XML: {exc}") from exc
    tree = element.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise invalid_input("body", "DOCTYPE and entity declarations are not allowed")
    if any(isinstance(node, etree._Entity) for node in element.iter()):
        raise invalid_input("body", "entity references are not allowed")
    qname = etree.QName(element)
    if qname.namespace not in (None, NS):
        raise invalid_input("body", f"unexpected namespace {qname.namespace!r}")
    if qname.localname != root:
        raise invalid_input("body", f"expected <{root}>, got <{qname.localname}>")
    return _to_json(element)


def parse_json(body: bytes) -> Doc:
    """Parse a JSON document body; it must be an object. Raise 400 naming the problem."""
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise invalid_input("body", f"malformed JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise invalid_input("body", "a JSON document must be an object")
    return value


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def _to_json(element: etree._Element) -> Doc:
    result: Doc = dict(element.attrib)
    children = [child for child in element if isinstance(child.tag, str)]
    metadata_field = _local(element) == "field" and any(_local(c) == "name" for c in children)
    for child in children:
        name = _local(child)
        value: Any
        grandchildren = [c for c in child if isinstance(c.tag, str)]
        if name == "value" and metadata_field:
            value = {"value": child.text or "", **dict(child.attrib)}
            result.setdefault("value", []).append(value)
            continue
        value = _to_json(child) if grandchildren or child.attrib else child.text or ""
        if name in REPEATED:
            result.setdefault(name, []).append(value)
        elif name in result:
            previous = result[name]
            result[name] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            result[name] = value
    return result


def render_xml(root: str, doc: Doc) -> bytes:
    """Render a JSON-form document as namespaced XML with an XML declaration."""
    element = etree.Element(f"{{{NS}}}{root}", nsmap={None: NS})
    _fill(element, root, doc)
    return bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8",
                                standalone=True))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: etree._Element, name: str, value: Any) -> None:
    if not isinstance(value, dict):
        element.text = _text(value)
        return
    for key, child in value.items():
        if child is None:
            continue
        if key in ATTRIBUTES or (key == "id" and name in ID_ATTRIBUTE_ON):
            element.set(key, _text(child))
        elif name == "value" and key == "value":
            element.text = _text(child)
        else:
            for member in child if isinstance(child, list) else [child]:
                sub = etree.SubElement(element, f"{{{NS}}}{key}")
                _fill(sub, key, member)


def render_json(doc: Doc) -> bytes:
    """Render a JSON-form document as compact UTF-8 JSON."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def as_list(value: Any) -> list[Any]:
    """A JSON-form member as a list (a single object or scalar becomes a one-element list)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
