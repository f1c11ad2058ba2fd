"""AnalysisResult -> VidiCore MetadataDocument of face ADU groups (lxml element API), and back.

Pure functions, no I/O; imports only pipeline result types, engine/media values and errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from lxml import etree

from vidiplug.engine.base import Box
from vidiplug.engine.character import series_of
from vidiplug.errors import MetadataError, TimecodeError
from vidiplug.media.probe import MediaInfo
from vidiplug.pipeline.results import AnalysisResult, Appearance, FaceRecord, PersonResult
from vidiplug.render.emotion_fields import PER_FACE, span_emotion
from vidiplug.render.timecode import (
    TimeBase,
    format_timebase,
    parse_timecode,
    seconds_to_samples,
    timebase_for_rate,
    to_iso_utc,
)

NS = "http://xml.vidispine.com/schema/vidispine"
UNKNOWN_VALUE = "Unknown"
ANALYSIS_TYPE = "face"
CHARACTER_TYPE = "character"
SERIES_FIELD = "adu_av_series"
GROUP_PREFIX = f"adu_{ANALYSIS_TYPE}_"
VALUE_GROUP = "adu_av_analyzedValue"
BOX_GROUP = "adu_av_boundingBox"
EMOTION_FIELD = "adu_av_emotion"
EMOTION_CONFIDENCE_FIELD = "adu_av_emotionConfidence"

# Field and group names are {category}_{name} words; the analyzer id becomes part of one.
_ANALYZER_ID_RE = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")
# Characters XML 1.0 cannot hold: C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF.
_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class ParsedBox:
    """A face box as fractions of the frame: top-left ``x``, ``y`` and ``width``, ``height`` in [0, 1]."""

    x: float
    y: float
    width: float
    height: float

    def to_box(self, width_px: int, height_px: int) -> Box:
        """The pixel Box (x1, y1, x2, y2) in a frame of ``width_px`` x ``height_px``."""
        return Box(self.x * width_px, self.y * height_px,
                   (self.x + self.width) * width_px, (self.y + self.height) * height_px)


@dataclass(frozen=True)
class ParsedSpan:
    """One analysed face value read back from a MetadataDocument.

    ``start``/``end`` are the time code texts as written, ``start_s``/``end_s`` their
    seconds (exact Fractions, float infinities for ``-INF``/``+INF``); ``value_id`` is the
    fingerprint, ``value`` the person's name or ``"Unknown"``; ``confidence`` and ``box``
    are None when the group has no such field or subgroup.
    """

    start: str
    end: str
    start_s: Fraction | float
    end_s: Fraction | float
    analyzer_id: str
    analysis_type: str
    created: str
    value_id: str
    value: str
    confidence: float | None
    box: ParsedBox | None
    emotion: str | None = None
    emotion_confidence: float | None = None
    series: str | None = None


def build_metadata_document(
    result: AnalysisResult,
    *,
    analyzer_id: str = "VidiplugFaceAnalyzer",
    timebase: TimeBase | None = None,
    min_confidence: float = 0.0,
    emotion_mode: str = PER_FACE,
) -> etree._Element:
    """The MetadataDocument that records who appears when, as VidiNet's face ADU groups.

    One ``<timespan>`` per appearance, its ``start``/``end`` in ``timebase`` (default: the
    media's own frame base, PAL for 25 fps, NTSC for 29.97 fps, ``@1000`` milliseconds when
    the rate is unknown), rounded to the nearest sample and always at least one sample
    long. Appearances that land on the identical interval share one timespan, holding
    several ``adu_face_{analyzer_id}`` groups; timespans are ordered by start.

    Each group carries ``adu_analyzerId``, ``adu_analysisType`` (``face``; ``character`` for the
    character engine's results, whose value group also names the series in ``adu_av_series``),
    ``adu_creationDate`` (``result.analyzed_at`` in UTC, ``YYYY-MM-DDTHH:MM:SSZ``) and one
    ``adu_av_analyzedValue`` subgroup with ``adu_av_valueId`` (the fingerprint: what links
    the timeline to the person's item), ``adu_av_value`` (the name, ``"Unknown"`` for
    unknown faces), ``adu_av_confidence`` (0-1, 4 decimals) and an ``adu_av_boundingBox``
    subgroup with ``adu_av_x``, ``adu_av_y``, ``adu_av_width``, ``adu_av_height`` as
    fractions of the frame (4 decimals). The reference leaves the box subgroup's names
    unconfirmed; these are ours. The box is left out when the frame size is unknown.

    Emotion (issue 15, vidiplug's own fields): when the appearance's face records carry
    ``attributes["emotion"]``, the value group also gets ``adu_av_emotion`` (class name)
    and ``adu_av_emotionConfidence`` (its score, 4 decimals), reduced over the span as
    ``emotion_mode`` says (``per-face``: the most frequent dominant class; ``aggregate``: the
    highest mean score; ``none``: never written; see render/emotion_fields.py). Without
    emotion in the records both fields are left out.

    Still images have no timeline: all their faces go on the one span ``0``-``1`` sample
    of the time base (``0@1000``-``1@1000`` by default), not on ``-INF``-``+INF``, which
    VidiCore reserves for non-timed metadata.

    Characters XML 1.0 cannot hold (C0 controls other than tab, LF and CR, U+FFFE, U+FFFF)
    are dropped from names; everything else, markup and quotes included, is kept as text.

    Raise ``min_confidence`` (0-1) to leave out weaker appearances. Raises MetadataError
    when ``analyzer_id`` is not a plain word of letters and digits starting with a letter.
    """
    if not _ANALYZER_ID_RE.fullmatch(analyzer_id):
        raise MetadataError(f"analyzer id {analyzer_id!r}: must be letters and digits, starting with a letter")
    base = timebase if timebase is not None else timebase_for_rate(result.media.frame_rate)
    created = to_iso_utc(result.analyzed_at)
    series = series_of(result.engine)
    spans: dict[tuple[int, int], list[tuple[PersonResult, Appearance]]] = {}
    for person in result.people:
        for appearance in person.appearances:
            if appearance.confidence < min_confidence:
                continue
            spans.setdefault(_samples(appearance, result.media, base), []).append((person, appearance))

    root = etree.Element(f"{{{NS}}}MetadataDocument", nsmap={None: NS})
    base_text = format_timebase(base)
    for (start, end), members in sorted(spans.items()):
        span = etree.SubElement(root, f"{{{NS}}}timespan", start=f"{start}@{base_text}", end=f"{end}@{base_text}")
        for person, appearance in members:
            group = _add_face_group(span, analyzer_id, created, person, appearance, result.media, series)
            emotion = span_emotion(_span_faces(result, person, appearance), emotion_mode)
            if emotion is not None:
                value = group.find(f"{{{NS}}}group")
                assert value is not None
                box = value.find(f"{{{NS}}}group")
                _field(value, EMOTION_FIELD, emotion.value)
                _field(value, EMOTION_CONFIDENCE_FIELD, _fraction_text(emotion.confidence))
                if box is not None:  # keep the box subgroup after the fields
                    value.remove(box)
                    value.append(box)
    return root


def _span_faces(result: AnalysisResult, person: PersonResult, appearance: Appearance) -> list[FaceRecord]:
    """The face records of ``person`` inside ``appearance`` (a still's span holds all of them)."""
    return [face for face in result.faces if face.fingerprint == person.fingerprint
            and (result.media.is_image or appearance.start_s <= face.time_s < appearance.end_s)]


def render_metadata_xml(
    result: AnalysisResult,
    *,
    analyzer_id: str = "VidiplugFaceAnalyzer",
    timebase: TimeBase | None = None,
    min_confidence: float = 0.0,
    emotion_mode: str = PER_FACE,
) -> bytes:
    """build_metadata_document serialised: UTF-8 bytes with an XML declaration, indented."""
    root = build_metadata_document(result, analyzer_id=analyzer_id, timebase=timebase, min_confidence=min_confidence,
                                   emotion_mode=emotion_mode)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


def parse_metadata_document(data: bytes) -> list[ParsedSpan]:
    """Every face value (``adu_face_*`` group) in a MetadataDocument, in document order.

    Reads what build_metadata_document writes, and also documents VidiCore returns
    (``ItemDocument``, ``MetadataListDocument``, no namespace, bookkeeping attributes):
    timespans are found anywhere in the tree; groups other than ``adu_face_*`` are
    skipped. The parser resolves no entities, loads no DTD and never touches the network.

    Raises MetadataError for malformed XML, any DOCTYPE (entity tricks are refused, not
    defused), bad time codes, or a face value without ``adu_av_valueId``/``adu_av_value``.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise MetadataError(f"metadata document is not well-formed XML: {exc}") from exc
    docinfo = root.getroottree().docinfo
    # libxml2 records every <!DOCTYPE ...>, subset or not, as an internal DTD node.
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise MetadataError("metadata document carries a DOCTYPE; DTDs and entities are refused")
    parsed: list[ParsedSpan] = []
    for span in root.iter(f"{{{NS}}}timespan", "timespan"):
        start, end = span.get("start", ""), span.get("end", "")
        try:
            start_s, end_s = parse_timecode(start), parse_timecode(end)
        except TimecodeError as exc:
            raise MetadataError(f"timespan {start!r}-{end!r}: {exc}") from exc
        for group in _children(span, "group"):
            name = _name(group)
            if not name.startswith(GROUP_PREFIX):
                continue
            fields = _fields(group)
            for value in (g for g in _children(group, "group") if _name(g) == VALUE_GROUP):
                parsed.append(_parse_value(value, start, end, start_s, end_s, name, fields))
    return parsed


def to_xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (see build_metadata_document)."""
    return _NOT_XML_RE.sub("", text)


def _samples(appearance: Appearance, media: MediaInfo, base: TimeBase) -> tuple[int, int]:
    if media.is_image:
        return 0, 1
    start = seconds_to_samples(appearance.start_s, base)
    end = seconds_to_samples(appearance.end_s, base)
    return start, max(end, start + 1)


def _add_face_group(
    span: etree._Element, analyzer_id: str, created: str, person: PersonResult, appearance: Appearance,
    media: MediaInfo, series: str | None = None,
) -> etree._Element:
    group = _group(span, GROUP_PREFIX + analyzer_id)
    _field(group, "adu_analyzerId", analyzer_id)
    _field(group, "adu_analysisType", ANALYSIS_TYPE if series is None else CHARACTER_TYPE)
    _field(group, "adu_creationDate", created)
    value = _group(group, VALUE_GROUP)
    _field(value, "adu_av_valueId", person.fingerprint)
    _field(value, "adu_av_value", person.name if person.known and person.name else UNKNOWN_VALUE)
    _field(value, "adu_av_confidence", _fraction_text(appearance.confidence))
    if series is not None:
        _field(value, SERIES_FIELD, series)
    if media.width > 0 and media.height > 0:
        box = appearance.box.clipped(media.width, media.height)
        bbox = _group(value, BOX_GROUP)
        _field(bbox, "adu_av_x", _fraction_text(box.x1 / media.width))
        _field(bbox, "adu_av_y", _fraction_text(box.y1 / media.height))
        _field(bbox, "adu_av_width", _fraction_text(box.width / media.width))
        _field(bbox, "adu_av_height", _fraction_text(box.height / media.height))
    return group


def _group(parent: etree._Element, name: str) -> etree._Element:
    group = etree.SubElement(parent, f"{{{NS}}}group")
    etree.SubElement(group, f"{{{NS}}}name").text = name
    return group


def _field(parent: etree._Element, name: str, value: str) -> None:
    field = etree.SubElement(parent, f"{{{NS}}}field")
    etree.SubElement(field, f"{{{NS}}}name").text = name
    etree.SubElement(field, f"{{{NS}}}value").text = to_xml_text(value)


def _fraction_text(value: float) -> str:
    """A 0-1 quantity with 4 decimals, clamped (a box touching the edge stays in range)."""
    return f"{min(1.0, max(0.0, value)):.4f}"


def _children(element: etree._Element, local: str) -> Iterable[etree._Element]:
    return (c for c in element if isinstance(c.tag, str) and etree.QName(c).localname == local)


def _name(element: etree._Element) -> str:
    name = next(iter(_children(element, "name")), None)
    return (name.text or "").strip() if name is not None else ""


def _fields(group: etree._Element) -> dict[str, str]:
    """First value of each field directly in ``group``."""
    found: dict[str, str] = {}
    for field in _children(group, "field"):
        value = next(iter(_children(field, "value")), None)
        found.setdefault(_name(field), (value.text or "") if value is not None else "")
    return found


def _parse_value(
    value: etree._Element, start: str, end: str, start_s: Fraction | float, end_s: Fraction | float,
    group_name: str, outer: dict[str, str],
) -> ParsedSpan:
    fields = _fields(value)
    for required in ("adu_av_valueId", "adu_av_value"):
        if required not in fields:
            raise MetadataError(f"timespan {start}-{end}, group {group_name}: no {required} field")
    box_group = next((g for g in _children(value, "group") if _name(g) == BOX_GROUP), None)
    return ParsedSpan(
        start=start,
        end=end,
        start_s=start_s,
        end_s=end_s,
        analyzer_id=outer.get("adu_analyzerId", group_name[len(GROUP_PREFIX):]),
        analysis_type=outer.get("adu_analysisType", ANALYSIS_TYPE),
        created=outer.get("adu_creationDate", ""),
        value_id=fields["adu_av_valueId"],
        value=fields["adu_av_value"],
        confidence=_number(fields, "adu_av_confidence", group_name) if "adu_av_confidence" in fields else None,
        box=_parse_box(box_group, group_name) if box_group is not None else None,
        emotion=fields.get(EMOTION_FIELD),
        emotion_confidence=(_number(fields, EMOTION_CONFIDENCE_FIELD, group_name)
                            if EMOTION_CONFIDENCE_FIELD in fields else None),
        series=fields.get(SERIES_FIELD),
    )


def _parse_box(group: etree._Element, group_name: str) -> ParsedBox:
    fields = _fields(group)
    return ParsedBox(*(_number(fields, f"adu_av_{key}", group_name) for key in ("x", "y", "width", "height")))


def _number(fields: dict[str, str], name: str, group_name: str) -> float:
    if name not in fields:
        raise MetadataError(f"group {group_name}: no {name} field")
    try:
        number = float(fields[name])
    except ValueError as exc:
        raise MetadataError(f"group {group_name}: {name}={fields[name]!r} is not a number") from exc
    if not math.isfinite(number):
        raise MetadataError(f"group {group_name}: {name}={fields[name]!r} is not a finite number")
    return number
