"""Callback bundles: the JSON literal, CallbackDocuments, file order and each script's DATA."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import quickjs
from lxml import etree

from callback_harness import analysis, person
from vidiplug.callbacks import (
    ANALYZE_METADATA_FILE,
    ANALYZE_TRACKS_FILE,
    ANALYZE_UNKNOWNS_FILE,
    DELETED_FINGERPRINTS_KEY,
    MISSING_ITEMS_KEY,
    TRAIN_FILE,
    CallbackError,
    CallbackFile,
    ScriptName,
    build_analyze_bundle,
    build_train_bundle,
    callback_document,
    json_literal,
    load_script,
)
from vidiplug.callbacks.scripts import REPOSITORY_SCRIPTS
from vidiplug.render.metadata_xml import NS, parse_metadata_document, render_metadata_xml

BASE = "s3://callbacks-bucket/vidiplug/"
HARDENED = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def script_of(document: bytes) -> str:
    root = etree.fromstring(document, HARDENED)
    assert root.tag == f"{{{NS}}}CallbackDocument" and root.get("version") == "2"
    return root.findtext(f"{{{NS}}}script") or ""


def data_of(document: bytes) -> Any:
    """DATA as the script's engine sees it: the DATA line run in QuickJS, read back as JSON."""
    line = next(line for line in script_of(document).splitlines() if line.startswith("var DATA = "))
    context = quickjs.Context()
    context.eval(line)
    return json.loads(context.eval("JSON.stringify(DATA)"))


def bundle(*people: Any, previously_imported: tuple[str, ...] = ()) -> list[CallbackFile]:
    return build_analyze_bundle(job_id="VX-12", item_id="VX-3", result=analysis(*people), callback_base_uri=BASE,
                                unknown_collection="FoundByFaceAnalysis", previously_imported=previously_imported)


def test_json_literal_escapes_markup_and_line_separators() -> None:
    literal = json_literal({"k": "<a href='x'>&</a>\u2028\u2029"})

    assert re.search("[<>&\u2028\u2029]", literal) is None
    assert "\\u003c" in literal and "\\u003e" in literal and "\\u0026" in literal
    assert "\\u2028" in literal and "\\u2029" in literal


def test_json_literal_is_json_of_the_same_value() -> None:
    value = {"names": ["]]>", "</script>", "Zoë 😀"], "n": 0.5, "none": None, "flag": True}

    assert json.loads(json_literal(value)) == value


def test_json_literal_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(CallbackError, match="JSON"):
        json_literal({"confidence": float("nan")})


def test_hostile_names_round_trip_through_document_xml_and_javascript(hostile_name: str) -> None:
    data = {"name": hostile_name, "list": [hostile_name, {"nested": hostile_name}]}

    document = callback_document("test", "a test", data, "DATA.name;")

    assert data_of(document) == data


def test_the_script_follows_the_data_line_unchanged() -> None:
    script = load_script(ScriptName.ANALYZE_METADATA)

    text = script_of(callback_document("n", "d", {"a": 1}, script.text))

    assert text == 'var DATA = {"a":1};\n' + script.text


def test_data_files_come_first_then_the_scripts_in_run_order() -> None:
    files = bundle(person(None, [(1.0, 2.0)], is_new=True, thumbnail=b"\xff\xd8crop"), person("Ann", [(0.0, 1.0)]))

    kinds = [f.is_script for f in files]

    assert kinds == sorted(kinds)
    assert [f.name for f in files if f.is_script] == [ANALYZE_UNKNOWNS_FILE, ANALYZE_METADATA_FILE,
                                                      ANALYZE_TRACKS_FILE]
    assert sorted(f.name for f in files if f.is_script) == [f.name for f in files if f.is_script]
    assert all(f.name.endswith(".xml") == f.is_script for f in files)


def test_each_new_unknown_crop_is_a_jpeg_data_file_named_by_fingerprint() -> None:
    unknown = person(None, [(1.0, 2.0)], is_new=True, thumbnail=b"\xff\xd8crop")

    [crop] = [f for f in bundle(unknown) if f.name.startswith("faces/")]

    assert crop == CallbackFile(f"faces/{unknown.fingerprint}.jpg", b"\xff\xd8crop", "image/jpeg", False)


def test_unknowns_script_data_lists_new_unknowns_and_previously_imported_fingerprints() -> None:
    with_crop = person(None, [(1.0, 2.0)], is_new=True, thumbnail=b"\xff\xd8crop")
    without_crop = person(None, [(3.0, 4.0)], is_new=True)
    seen_before = person(None, [(5.0, 6.0)])
    files = bundle(with_crop, without_crop, seen_before, person("Ann", [(0.0, 1.0)]),
                   previously_imported=(seen_before.fingerprint, seen_before.fingerprint))

    data = data_of(next(f.data for f in files if f.name == ANALYZE_UNKNOWNS_FILE))

    assert data == {
        "scriptVersion": load_script(ScriptName.ANALYZE_UNKNOWNS).version,
        "jobId": "VX-12",
        "itemId": "VX-3",
        "collection": "FoundByFaceAnalysis",
        "unknowns": [
            {"fingerprint": with_crop.fingerprint, "title": f"Unknown face {with_crop.fingerprint[:8]}",
             "thumbnailUri": f"{BASE}VX-12/faces/{with_crop.fingerprint}.jpg"},
            {"fingerprint": without_crop.fingerprint, "title": f"Unknown face {without_crop.fingerprint[:8]}",
             "thumbnailUri": None},
        ],
        "previouslyImported": [seen_before.fingerprint],
        "storageId": None,
    }


def test_a_pending_unknown_found_again_is_imported_like_a_new_one_and_never_counted_as_deleted() -> None:
    pending = person(None, [(1.0, 2.0)], thumbnail=b"\xff\xd8crop")  # stored, but its item never confirmed
    files = build_analyze_bundle(job_id="VX-12", item_id="VX-3", result=analysis(pending), callback_base_uri=BASE,
                                 unknown_collection="FoundByFaceAnalysis", previously_imported=(),
                                 pending_imports=(pending.fingerprint,))

    data = data_of(next(f.data for f in files if f.name == ANALYZE_UNKNOWNS_FILE))

    assert [u["fingerprint"] for u in data["unknowns"]] == [pending.fingerprint]
    assert data["previouslyImported"] == []
    assert f"faces/{pending.fingerprint}.jpg" in [f.name for f in files]


def test_metadata_script_data_carries_what_render_writes_per_fingerprint(hostile_name: str) -> None:
    people = (person(hostile_name, [(1.0, 2.0)], confidence=0.875), person(None, [(1.0, 2.0), (4.0, 5.5)]))
    files = bundle(*people)

    data = data_of(next(f.data for f in files if f.name == ANALYZE_METADATA_FILE))

    rendered = parse_metadata_document(render_metadata_xml(analysis(*people)))
    written = [(span["start"], span["end"], face["fingerprint"],
                face["group"]["group"][0]["field"][1]["value"][0]["value"])
               for span in data["spans"] for face in span["faces"]]
    assert written == [(s.start, s.end, s.value_id, s.value) for s in rendered]
    assert (data["analyzerId"], data["groupName"]) == ("VidiplugFaceAnalyzer", "adu_face_VidiplugFaceAnalyzer")


def test_metadata_groups_have_the_adu_structure() -> None:
    files = bundle(person("Ann", [(9.0, 9.04)], confidence=0.93))

    [span] = data_of(next(f.data for f in files if f.name == ANALYZE_METADATA_FILE))["spans"]

    group = span["faces"][0]["group"]
    assert (span["start"], span["end"]) == ("270@NTSC", "271@NTSC")
    assert [f["name"] for f in group["field"]] == ["adu_analyzerId", "adu_analysisType", "adu_creationDate"]
    [value] = group["group"]
    assert value["name"] == "adu_av_analyzedValue"
    assert {f["name"]: f["value"][0]["value"] for f in value["field"]} == {
        "adu_av_valueId": span["faces"][0]["fingerprint"], "adu_av_value": "Ann", "adu_av_confidence": "0.9300"}
    assert [g["name"] for g in value["group"]] == ["adu_av_boundingBox"]


def test_a_base_uri_with_credentials_is_refused_without_echoing_the_secret() -> None:
    with pytest.raises(CallbackError) as raised:
        build_analyze_bundle(job_id="VX-1", item_id="VX-2", result=analysis(), callback_base_uri="s3://key:SECRET@b/p/",
                             unknown_collection="c", previously_imported=())

    assert "SECRET" not in str(raised.value)


@pytest.mark.parametrize("fingerprint", ["../escape", "a/b", "", "fp with space", '"quoted"'])
def test_unsafe_unknown_fingerprints_are_refused(fingerprint: str) -> None:
    with pytest.raises(CallbackError, match="fingerprint"):
        bundle(person(None, [(1.0, 2.0)], fingerprint=fingerprint, is_new=True, thumbnail=b"x"))


def test_train_script_data_lists_accepted_and_rejected_items_with_reasons() -> None:
    [file] = build_train_bundle(job_id="VX-9", accepted=["VX-1", "VX-2", "VX-1"],
                                rejected={"VX-3": "no face\x00 found <b>"})

    data = data_of(file.data)

    assert (file.name, file.content_type, file.is_script) == (TRAIN_FILE, "application/xml", True)
    assert data == {"scriptVersion": load_script(ScriptName.TRAIN_RESULT).version, "jobId": "VX-9",
                    "reasonField": "adu_av_description", "accepted": ["VX-1", "VX-2"],
                    "rejected": [{"itemId": "VX-3", "reason": "no face found <b>"}]}


def test_an_item_both_accepted_and_rejected_is_refused() -> None:
    with pytest.raises(CallbackError, match="VX-1"):
        build_train_bundle(job_id="VX-9", accepted=["VX-1"], rejected={"VX-1": "blurry"})


def test_scripts_are_versioned_by_content_and_share_the_helpers() -> None:
    scripts = [load_script(name) for name in ScriptName]

    common = (REPOSITORY_SCRIPTS / "common.js").read_text(encoding="utf-8")
    assert all(re.fullmatch(r"sha256:[0-9a-f]{16}", s.version) for s in scripts)
    assert len({s.version for s in scripts}) == len(scripts)
    assert all(s.text.startswith(common) for s in scripts)


def test_the_job_data_keys_are_the_ones_the_scripts_write() -> None:
    assert f'"{DELETED_FINGERPRINTS_KEY}"' in load_script(ScriptName.ANALYZE_UNKNOWNS).text
    assert f'"{MISSING_ITEMS_KEY}"' in load_script(ScriptName.TRAIN_RESULT).text


@pytest.mark.parametrize("name", list(ScriptName))
def test_scripts_stay_within_es5(name: ScriptName) -> None:
    code = re.sub(r"/\*.*?\*/|^\s*//.*$", "", load_script(name).text, flags=re.S | re.M)

    assert re.search(r"=>|`|\.\.\.|\b(let|const|class)\s|\bfor\s*\([^)]*\bof\b", code) is None


@pytest.mark.parametrize("name", list(ScriptName))
def test_scripts_parse_in_quickjs(name: ScriptName) -> None:
    context = quickjs.Context()

    context.eval(f"var compiled = typeof Function({json.dumps(load_script(name).text)});")

    assert context.eval("compiled") == "function"
