from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple
from fractions import Fraction

import pytest
from lxml import etree

from vidiplug.engine.base import Box
from vidiplug.errors import MetadataError, VidiplugError
from vidiplug.media.probe import MediaInfo
from vidiplug.pipeline.results import AnalysisResult, PersonResult
from vidiplug.render.metadata_xml import (
    ParsedBox,
    build_metadata_document,
    parse_metadata_document,
    render_metadata_xml,
)
from vidiplug.render.timecode import MILLISECONDS

NS = "http://xml.vidispine.com/schema/vidispine"
V = f"{{{NS}}}"

MakePerson = Callable[..., PersonResult]
MakeResult = Callable[..., AnalysisResult]
MakeMedia = Callable[..., MediaInfo]


def spans_of(root: etree._Element) -> list[tuple[str | None, str | None]]:
    return [(span.get("start"), span.get("end")) for span in root.iter(f"{V}timespan")]


def field_values(root: etree._Element, name: str) -> list[str | None]:
    return [field.findtext(f"{V}value") for field in root.iter(f"{V}field") if field.findtext(f"{V}name") == name]


def test_document_is_in_the_vidispine_default_namespace(make_person: MakePerson, make_result: MakeResult) -> None:
    result = make_result([make_person("Ann", [(9.0, 9.04)])])

    data = render_metadata_xml(result)
    root = etree.fromstring(data)

    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<MetadataDocument xmlns=\"" + NS.encode())
    assert root.tag == f"{V}MetadataDocument"
    assert root.nsmap == {None: NS}
    assert all(element.prefix is None for element in root.iter())


def test_kb_example_frame_becomes_225_to_226_at_pal(make_person: MakePerson, make_result: MakeResult) -> None:
    result = make_result([make_person("Steven Stevenson", [(9.0, 9.04)])])

    root = build_metadata_document(result)

    assert spans_of(root) == [("225@PAL", "226@PAL")]


def test_each_appearance_gets_its_own_timespan_in_frames(make_person: MakePerson, make_result: MakeResult) -> None:
    result = make_result([make_person("Ann", [(3.52, 8.0), (12.0, 13.0), (20.0, 20.5)])])

    root = build_metadata_document(result)

    assert spans_of(root) == [("88@PAL", "200@PAL"), ("300@PAL", "325@PAL"), ("500@PAL", "513@PAL")]


def test_ntsc_media_gets_ntsc_frame_codes(
    make_person: MakePerson, make_result: MakeResult, make_media: MakeMedia
) -> None:
    media = make_media(Fraction(30000, 1001))
    result = make_result([make_person("Ann", [(10.01, 20.02)])], media)

    root = build_metadata_document(result)

    assert spans_of(root) == [("300@NTSC", "600@NTSC")]


def test_unknown_frame_rate_writes_milliseconds(
    make_person: MakePerson, make_result: MakeResult, make_media: MakeMedia
) -> None:
    result = make_result([make_person("Ann", [(1.5, 2.25)])], make_media(None))

    root = build_metadata_document(result)

    assert spans_of(root) == [("1500@1000", "2250@1000")]


def test_explicit_time_base_overrides_the_media_rate(make_person: MakePerson, make_result: MakeResult) -> None:
    result = make_result([make_person("Ann", [(1.5, 2.25)])])

    root = build_metadata_document(result, timebase=MILLISECONDS)

    assert spans_of(root) == [("1500@1000", "2250@1000")]


def test_still_image_faces_share_one_first_millisecond_span(
    make_person: MakePerson, make_result: MakeResult, make_media: MakeMedia
) -> None:
    people = [make_person("Ann", [(0.0, 1.0)]), make_person(None, [(0.0, 1.0)], fingerprint="fp-x")]

    root = build_metadata_document(make_result(people, make_media(image=True)))

    assert spans_of(root) == [("0@1000", "1@1000")]
    assert len(root.findall(f"{V}timespan/{V}group")) == 2


def test_zero_length_appearance_still_lasts_one_sample(make_person: MakePerson, make_result: MakeResult) -> None:
    result = make_result([make_person("Ann", [(4.0, 4.0), (5.0, 5.01)])])

    root = build_metadata_document(result)

    assert spans_of(root) == [("100@PAL", "101@PAL"), ("125@PAL", "126@PAL")]


def test_groups_on_an_identical_interval_share_one_timespan(make_person: MakePerson, make_result: MakeResult) -> None:
    people = [make_person("Bob", [(2.0, 3.0)]), make_person("Ann", [(2.0, 3.0), (2.0, 4.0)])]

    root = build_metadata_document(make_result(people))

    spans = root.findall(f"{V}timespan")
    assert spans_of(root) == [("50@PAL", "75@PAL"), ("50@PAL", "100@PAL")]
    assert [len(span.findall(f"{V}group")) for span in spans] == [2, 1]
    assert field_values(spans[0], "adu_av_value") == ["Bob", "Ann"]


def test_timespans_are_ordered_by_start(make_person: MakePerson, make_result: MakeResult) -> None:
    people = [make_person("Late", [(30.0, 31.0)]), make_person(None, [(1.0, 2.0)]), make_person("Mid", [(10.0, 11.0)])]

    root = build_metadata_document(make_result(people))

    assert [start for start, _ in spans_of(root)] == ["25@PAL", "250@PAL", "750@PAL"]


def test_face_group_holds_the_adu_fields(make_person: MakePerson, make_result: MakeResult) -> None:
    person = make_person("Ann", [(9.0, 9.04)], fingerprint="2a3e5bed", confidence=0.912345,
                         box=Box(64.0, 36.0, 192.0, 180.0))

    root = build_metadata_document(make_result([person]), analyzer_id="MyAnalyzer")

    group = root.find(f"{V}timespan/{V}group")
    assert group is not None
    value = group.find(f"{V}group")
    assert value is not None
    bbox = value.find(f"{V}group")
    assert bbox is not None
    assert group.findtext(f"{V}name") == "adu_face_MyAnalyzer"
    assert [(f.findtext(f"{V}name"), f.findtext(f"{V}value")) for f in group.findall(f"{V}field")] == [
        ("adu_analyzerId", "MyAnalyzer"), ("adu_analysisType", "face"), ("adu_creationDate", "2021-08-18T08:00:46Z")]
    assert value.findtext(f"{V}name") == "adu_av_analyzedValue"
    assert [(f.findtext(f"{V}name"), f.findtext(f"{V}value")) for f in value.findall(f"{V}field")] == [
        ("adu_av_valueId", "2a3e5bed"), ("adu_av_value", "Ann"), ("adu_av_confidence", "0.9123")]
    assert bbox.findtext(f"{V}name") == "adu_av_boundingBox"
    assert [(f.findtext(f"{V}name"), f.findtext(f"{V}value")) for f in bbox.findall(f"{V}field")] == [
        ("adu_av_x", "0.1000"), ("adu_av_y", "0.1000"), ("adu_av_width", "0.2000"), ("adu_av_height", "0.4000")]


def test_unknown_face_is_valued_unknown_and_linked_by_fingerprint(
    make_person: MakePerson, make_result: MakeResult
) -> None:
    result = make_result([make_person(None, [(1.0, 2.0)], fingerprint="fp-unknown-7")])

    root = build_metadata_document(result)

    assert field_values(root, "adu_av_value") == ["Unknown"]
    assert field_values(root, "adu_av_valueId") == ["fp-unknown-7"]


def test_box_outside_the_frame_is_clipped_to_fractions(make_person: MakePerson, make_result: MakeResult) -> None:
    result = make_result([make_person("Ann", [(1.0, 2.0)], box=Box(-64.0, 180.0, 704.0, 400.0))])

    (span,) = parse_metadata_document(render_metadata_xml(result))

    assert span.box == ParsedBox(x=0.0, y=0.5, width=1.0, height=0.5)


def test_min_confidence_leaves_out_weaker_appearances(make_person: MakePerson, make_result: MakeResult) -> None:
    people = [make_person("Sure", [(1.0, 2.0)], confidence=0.8), make_person("Unsure", [(3.0, 4.0)], confidence=0.4)]

    root = build_metadata_document(make_result(people), min_confidence=0.5)

    assert field_values(root, "adu_av_value") == ["Sure"]


def test_no_appearances_give_an_empty_document(make_result: MakeResult) -> None:
    root = build_metadata_document(make_result([]))

    assert root.tag == f"{V}MetadataDocument" and len(root) == 0
    assert parse_metadata_document(render_metadata_xml(make_result([]))) == []


@pytest.mark.parametrize("analyzer_id", ["", "my analyzer", "x</name>", "1abc", "a_b", "Ünïcode"])
def test_analyzer_id_must_be_a_plain_word(make_result: MakeResult, analyzer_id: str) -> None:
    with pytest.raises(MetadataError, match="analyzer id"):
        build_metadata_document(make_result([]), analyzer_id=analyzer_id)


def test_document_parses_back_with_equal_values(make_person: MakePerson, make_result: MakeResult) -> None:
    people = [make_person("Ann", [(9.0, 9.04), (12.0, 15.0)], fingerprint="fp-ann", confidence=0.87654),
              make_person(None, [(9.0, 9.04)], fingerprint="fp-unk", confidence=1.0)]

    parsed = parse_metadata_document(render_metadata_xml(make_result(people)))

    assert [(p.start, p.end, p.start_s, p.end_s, p.value_id, p.value, p.confidence) for p in parsed] == [
        ("225@PAL", "226@PAL", Fraction(9), Fraction(226, 25), "fp-ann", "Ann", 0.8765),
        ("225@PAL", "226@PAL", Fraction(9), Fraction(226, 25), "fp-unk", "Unknown", 1.0),
        ("300@PAL", "375@PAL", Fraction(12), Fraction(15), "fp-ann", "Ann", 0.8765),
    ]
    assert {(p.analyzer_id, p.analysis_type, p.created) for p in parsed} == {
        ("VidiplugFaceAnalyzer", "face", "2021-08-18T08:00:46Z")}
    box = parsed[0].box
    assert box == ParsedBox(x=0.1, y=0.1, width=0.2, height=0.4)
    assert astuple(box.to_box(640, 360)) == pytest.approx((64.0, 36.0, 192.0, 180.0))


def test_hostile_name_round_trips_through_xml(
    make_person: MakePerson, make_result: MakeResult, hostile_name: str
) -> None:
    result = make_result([make_person(hostile_name, [(1.0, 2.0)], fingerprint=hostile_name)])

    (span,) = parse_metadata_document(render_metadata_xml(result))

    assert span.value == hostile_name
    assert span.value_id == hostile_name


def test_hostile_name_stays_text_in_the_tree(
    make_person: MakePerson, make_result: MakeResult, hostile_name: str
) -> None:
    result = make_result([make_person(hostile_name, [(1.0, 2.0)])])

    root = etree.fromstring(render_metadata_xml(result))

    assert [element.tag for element in root.iter()] == [element.tag for element in build_metadata_document(
        make_result([make_person("Plain", [(1.0, 2.0)])])).iter()]
    assert field_values(root, "adu_av_value") == [hostile_name]


def test_characters_xml_cannot_hold_are_dropped_from_names(
    make_person: MakePerson, make_result: MakeResult, control_name: str
) -> None:
    result = make_result([make_person(control_name, [(1.0, 2.0)])])

    (span,) = parse_metadata_document(render_metadata_xml(result))

    assert span.value == "Ann Lee"


def test_vidicore_item_document_without_namespace_is_read() -> None:
    data = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<ItemDocument id="VX-108" xmlns="">
  <timespan start="225@PAL" end="226@PAL">
    <group uuid="7c59" user="admin" change="VX-915"><name>adu_face_DeepVAKeyframeAnalyzer</name>
      <field uuid="74d2"><name>adu_analyzerId</name><value uuid="92b7">DeepVAKeyframeAnalyzer</value></field>
      <field><name>adu_analysisType</name><value>face</value></field>
      <field><name>adu_creationDate</name><value>2021-08-18T08:00:46</value></field>
      <group><name>adu_av_analyzedValue</name>
        <field><name>adu_av_valueId</name><value>2a3e5bed-fdac-4076-81b1-c6586e4c5c5d</value></field>
        <field><name>adu_av_value</name><value>Steven Stevenson</value></field>
      </group>
    </group>
    <group><name>V3_Other</name><field><name>x</name><value>y</value></field></group>
  </timespan>
  <timespan start="-INF" end="+INF"><field><name>title</name><value>clip</value></field></timespan>
</ItemDocument>"""

    (span,) = parse_metadata_document(data)

    assert (span.start_s, span.analyzer_id, span.value, span.value_id) == (
        Fraction(9), "DeepVAKeyframeAnalyzer", "Steven Stevenson", "2a3e5bed-fdac-4076-81b1-c6586e4c5c5d")
    assert span.confidence is None and span.box is None


HOSTILE_DOCUMENTS = {
    "billion-laughs": b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<MetadataDocument xmlns="http://xml.vidispine.com/schema/vidispine"><timespan start="0@PAL" end="1@PAL">
<group><name>adu_face_X</name><group><name>adu_av_analyzedValue</name>
<field><name>adu_av_valueId</name><value>a</value></field>
<field><name>adu_av_value</name><value>&lol3;</value></field></group></group></timespan></MetadataDocument>""",
    "external-entity": b"""<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<MetadataDocument xmlns="http://xml.vidispine.com/schema/vidispine"><timespan start="0@PAL" end="1@PAL">
<field><name>f</name><value>&xxe;</value></field></timespan></MetadataDocument>""",
    "external-dtd": b"""<?xml version="1.0"?>
<!DOCTYPE MetadataDocument SYSTEM "http://127.0.0.1:9/evil.dtd">
<MetadataDocument xmlns="http://xml.vidispine.com/schema/vidispine"/>""",
    "bare-doctype": b"""<!DOCTYPE MetadataDocument><MetadataDocument/>""",
}


@pytest.mark.parametrize("data", HOSTILE_DOCUMENTS.values(), ids=HOSTILE_DOCUMENTS.keys())
def test_documents_with_a_doctype_are_refused(data: bytes) -> None:
    with pytest.raises(MetadataError, match="DOCTYPE"):
        parse_metadata_document(data)


@pytest.mark.parametrize(
    "data",
    [b"", b"<MetadataDocument>", b"<MetadataDocument>&undefined;</MetadataDocument>", b"not xml at all"],
    ids=["empty", "unclosed", "undefined-entity", "text"],
)
def test_malformed_xml_is_a_document_error(data: bytes) -> None:
    with pytest.raises(MetadataError, match="well-formed"):
        parse_metadata_document(data)


def test_bad_time_code_in_a_document_is_a_document_error() -> None:
    data = b'<MetadataDocument><timespan start="soon" end="1@PAL"/></MetadataDocument>'

    with pytest.raises(MetadataError, match="soon"):
        parse_metadata_document(data)


def test_face_value_without_a_value_id_is_a_document_error() -> None:
    data = b"""<MetadataDocument><timespan start="0@PAL" end="1@PAL"><group><name>adu_face_X</name>
<group><name>adu_av_analyzedValue</name><field><name>adu_av_value</name><value>Ann</value></field></group>
</group></timespan></MetadataDocument>"""

    with pytest.raises(MetadataError, match="adu_av_valueId"):
        parse_metadata_document(data)


def test_document_error_is_a_vidiplug_error() -> None:
    assert issubclass(MetadataError, VidiplugError)
