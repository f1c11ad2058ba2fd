"""The face MetadataDocument of render/metadata_xml.py, re-expressed as the JSON a callback script sends.

Callbacks room: pure functions, no I/O. Built from render's own document, so what a callback
writes means exactly what render_metadata_xml writes: same time codes, groups, fields and values.
"""

from __future__ import annotations

from lxml import etree

from vidiplug.pipeline.results import AnalysisResult
from vidiplug.render.emotion_fields import PER_FACE
from vidiplug.render.metadata_xml import GROUP_PREFIX, NS, VALUE_GROUP, build_metadata_document

JsonObject = dict[str, object]


def face_spans(result: AnalysisResult, *, analyzer_id: str, emotion_mode: str = PER_FACE) -> list[JsonObject]:
    """One entry per timespan of ``build_metadata_document(result, analyzer_id=...)``, in its order.

    Each entry is ``{"start", "end", "faces": [{"fingerprint", "group"}]}``: ``group`` is
    one ``adu_face_{analyzer_id}`` group in MetadataDocument JSON form
    (``{"name", "field": [{"name", "value": [{"value"}]}], "group": [...]}``, empty lists left
    out) and ``fingerprint`` its ``adu_av_valueId``, so a script can leave out the faces of
    one fingerprint without reading the group. Time codes are in the media's frame base
    (see build_metadata_document; ``emotion_mode`` as there). Raises MetadataError for a malformed ``analyzer_id``.
    """
    root = build_metadata_document(result, analyzer_id=analyzer_id, emotion_mode=emotion_mode)
    spans: list[JsonObject] = []
    for span in root.iterfind(f"{{{NS}}}timespan"):
        faces: list[JsonObject] = [
            {"fingerprint": _value_id(group), "group": group_json(group)}
            for group in span.iterfind(f"{{{NS}}}group")
            if _name(group).startswith(GROUP_PREFIX)
        ]
        spans.append({"start": span.get("start", ""), "end": span.get("end", ""), "faces": faces})
    return spans


def group_json(group: etree._Element) -> JsonObject:
    """A MetadataDocument ``<group>`` element (vidispine namespace) in JSON form, recursively."""
    fields = [
        {"name": _name(field), "value": [{"value": value.text or ""} for value in field.iterfind(f"{{{NS}}}value")]}
        for field in group.iterfind(f"{{{NS}}}field")
    ]
    groups = [group_json(child) for child in group.iterfind(f"{{{NS}}}group")]
    converted: JsonObject = {"name": _name(group)}
    if fields:
        converted["field"] = fields
    if groups:
        converted["group"] = groups
    return converted


def _name(element: etree._Element) -> str:
    return str(element.findtext(f"{{{NS}}}name", default=""))


def _value_id(group: etree._Element) -> str:
    """The ``adu_av_valueId`` of the group's ``adu_av_analyzedValue`` subgroup."""
    for value_group in group.iterfind(f"{{{NS}}}group"):
        if _name(value_group) != VALUE_GROUP:
            continue
        for field in value_group.iterfind(f"{{{NS}}}field"):
            if _name(field) == "adu_av_valueId":
                return str(field.findtext(f"{{{NS}}}value", default=""))
    return ""
