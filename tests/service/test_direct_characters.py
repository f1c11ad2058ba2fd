"""Animated characters through VidiCore in direct mode (issue 16): the mock without --bridge.

An analysis asked for with ``cognitive_service_AnimationModel=SERIES`` runs the character
engine: unknown characters become items in the unknown collection (with their crop), the
item's timespans are the face groups' shape under the character analyzer, with
``adu_analysisType`` ``character`` and the series in ``adu_av_series``. Naming one makes the
timelines follow (and the character known to the series), deleting one keeps it out of the
next analysis, and a train request with the parameter trains the series on the items marked
with it.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from operator_api import Operator, field_values
from service.test_direct_mode import (
    DIRECT,
    analyse,
    generic,
    mock_url,  # noqa: F401 - a fixture: the mock without --bridge
    put_fields,
    status_of,
    unknown_items,
)
from support import wait_for
from vidiplug.callbacks.bundle import build_relabel_bundle
from vidiplug.engine.character import CharacterEngine
from vidiplug.errors import JobParameterError
from vidiplug.identity.gallery import Gallery
from vidiplug.pipeline.analyze import analyze_media
from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.render.timecode import parse_timecode
from vidiplug.service.params import parse_analyze_params, parse_train_params
from vidiplug.settings import AnalysisDefaults

pytestmark = pytest.mark.timeout(600)
MEGAMIND = "opencv_samples/opencv/samples/data/Megamind.avi"
CASCADE_FILE = "lbpcascade_animeface/lbpcascade_animeface.xml"
SERIES = "Megamind"
CHARACTER_GROUP = "adu_face_VidiplugCharacterAnalyzer"
PARAMETER = f"cognitive_service_AnimationModel={SERIES}"


def characters(operator: Operator, item_id: str) -> list[dict[str, Any]]:
    """Every character value on ``item_id``'s timeline: times, fingerprint, name, type and series."""
    found = []
    for span in operator.metadata(item_id).get("timespan", []) or []:
        if span.get("start") == "-INF":
            continue
        for group in span.get("group", []) or []:
            if group.get("name") != CHARACTER_GROUP:
                continue
            outer = {f["name"]: f["value"][0]["value"] for f in group.get("field", []) or [] if f.get("value")}
            for value in group.get("group", []) or []:
                fields = {f["name"]: f["value"][0]["value"] for f in value.get("field", []) or [] if f.get("value")}
                found.append({"start": float(parse_timecode(span["start"])), "end": float(parse_timecode(span["end"])),
                              "fingerprint": fields["adu_av_valueId"], "name": fields["adu_av_value"],
                              "type": outer.get("adu_analysisType"), "analyzer": outer.get("adu_analyzerId"),
                              "series": fields.get("adu_av_series")})
    return found


def face_groups(operator: Operator, item_id: str) -> list[str]:
    return [str(group.get("name")) for span in operator.metadata(item_id).get("timespan", []) or []
            for group in span.get("group", []) or [] if str(group.get("name", "")).startswith("adu_face_")
            and group.get("name") != CHARACTER_GROUP]


def test_characters_analyse_rename_delete_reanalyse_and_train(start_service, operator: Operator,
                                                               data_dir: Path) -> None:
    cascade = data_dir / CASCADE_FILE
    app = start_service(characters__cascade=str(cascade), **DIRECT)
    clip = operator.import_file(data_dir / MEGAMIND)

    # A hostile series name is refused, naming the parameter.
    status, message = analyse(operator, clip, "cognitive_service_AnimationModel=../../etc/passwd")
    assert status == "FAILED" and "cognitive_service_AnimationModel" in message

    status, message = analyse(operator, clip, PARAMETER)
    assert status == "FINISHED", message
    found = characters(operator, clip)
    assert found and face_groups(operator, clip) == []  # character groups only, never the face analyzer's
    assert {(f["type"], f["analyzer"], f["series"]) for f in found} == {
        ("character", "VidiplugCharacterAnalyzer", SERIES)}
    shown = sorted({f["fingerprint"] for f in found if f["name"] == "Unknown"})
    unknowns = unknown_items(operator)
    assert len(shown) >= 2 and set(shown) <= set(unknowns)
    named_fp, deleted_fp = shown[:2]
    assert any("vcs_face_thumbnail" in (s.get("tag") or []) for s in operator.shapes(unknowns[named_fp]))
    title = field_values(operator.metadata(unknowns[named_fp]), "title")
    assert title and title[0].startswith("Unknown character") and SERIES in title[0]
    # The stored unknowns live in the series' vector space.
    engine = CharacterEngine(SERIES, cascade)
    assert set(shown) <= {i.id for i in app.store.load_gallery(engine.info).identities}

    # Naming a group: the timeline follows, and the character is known to the series from then on.
    operator.set_fields(unknowns[named_fp], ("vcs_face_value", "Minion"))
    wait_for(lambda: any(f["fingerprint"] == named_fp and f["name"] == "Minion" for f in characters(operator, clip)),
             120, "the timeline to show the new name")
    wait_for(lambda: status_of(operator, f"item/{unknowns[named_fp]}")[0] == "FINISHED", 60, "the relabel's status")
    assert "Minion" in {i.name for i in app.store.load_gallery(engine.info, include_unknown=False).identities}

    # Deleting one: suppressed, not re-imported nor shown by the next analysis.
    operator.delete_item(unknowns[deleted_fp])
    wait_for(lambda: app.store.get(deleted_fp).suppressed or None, 60, "the deleted fingerprint to be suppressed")
    status, message = analyse(operator, clip, PARAMETER)
    assert status == "FINISHED", message
    assert operator.items_with("vcs_face_externalId", deleted_fp) == []
    after = characters(operator, clip)
    assert deleted_fp not in {f["fingerprint"] for f in after}
    assert any(f["fingerprint"] == named_fp and f["name"] == "Minion" and f["series"] == SERIES for f in after)

    # Training from uploaded images: only the items marked with the series train it.
    assert app.registration is not None
    training = app.registration.training_collection_id
    crop = next(iter(sorted((data_dir / "sytwu_anime_faces").rglob("*.png")) or
                     sorted((data_dir / "sytwu_anime_faces").rglob("*.jpg"))))
    photo = operator.import_file(crop, ("vcs_face_isTrainingMaterial", "true"), ("vcs_face_value", "Roxanne"),
                                 ("adu_av_series", SERIES))
    operator.add_to_collection(training, photo)
    put_fields(operator, f"collection/{training}", ("vidiplug_trainingRequested", "true"),
               ("vidiplug_jobParameter", PARAMETER))
    wait_for(lambda: generic(operator, f"collection/{training}").get("vidiplug_trainingRequested") == ["false"],
             240, "training to run")
    assert status_of(operator, f"collection/{training}")[0] == "FINISHED"
    assert field_values(operator.metadata(photo), "vcs_face_method") == ["TRAINED"]
    trained = app.store.load_gallery(engine.info, include_unknown=False)
    assert "Roxanne" in {i.name for i in trained.identities}


@pytest.mark.parametrize("hostile", ["../x", "a/b", "<script>", "x" * 65, "a\nb", "\"); api.delete(); //"])
def test_a_hostile_series_name_is_refused_naming_the_parameter(hostile: str) -> None:
    for parse in (lambda d: parse_analyze_params(d, AnalysisDefaults(), AnalyzeParams()),
                  lambda d: parse_train_params(d, AnalysisDefaults())):
        with pytest.raises(JobParameterError, match="cognitive_service_AnimationModel"):
            parse({"cognitive_service_AnimationModel": hostile})


def test_the_series_parameter_reaches_analyze_and_train_params() -> None:
    data = {"cognitive_service_AnimationModel": " Dexter's Laboratory "}
    assert parse_analyze_params(data, AnalysisDefaults(), AnalyzeParams()).series == "Dexter's Laboratory"
    assert parse_train_params(data, AnalysisDefaults()).series == "Dexter's Laboratory"
    assert parse_analyze_params({}, AnalysisDefaults(), AnalyzeParams()).series is None


def test_a_relabel_rewrites_the_character_groups_too() -> None:
    files = build_relabel_bundle(job_id="VX-1", fingerprint="fp1", value_id="id2", value="Minion", item_id="VX-2",
                                 item_fields={"vcs_face_value": "Minion"},
                                 also_analyzers=("VidiplugCharacterAnalyzer",))
    assert [f.name for f in files] == ["010-vidiplug-relabel.xml", "011-vidiplug-relabel-VidiplugCharacterAnalyzer.xml"]
    assert b"adu_face_VidiplugCharacterAnalyzer" in files[1].data and b"adu_face_VidiplugCharacterAnalyzer" \
        not in files[0].data


def test_characters_merge_end_to_end(start_service, operator: Operator, data_dir: Path) -> None:
    start_service(characters__cascade=str(data_dir / CASCADE_FILE), **DIRECT)
    clip = operator.import_file(data_dir / MEGAMIND)
    status, message = analyse(operator, clip, PARAMETER)
    assert status == "FINISHED", message
    shown = sorted({f["fingerprint"] for f in characters(operator, clip) if f["name"] == "Unknown"})
    unknowns = unknown_items(operator)
    assert len(shown) >= 2 and set(shown) <= set(unknowns)
    kept_fp, merged_fp = shown[:2]
    merged_item = f"item/{unknowns[merged_fp]}"
    assert status_of(operator, merged_item)[0] != "FINISHED"  # so that the wait below waits for the merge

    put_fields(operator, merged_item, ("vidiplug_mergeInto", unknowns[kept_fp]))
    wait_for(lambda: status_of(operator, merged_item)[0] == "FINISHED", 120, "the merge's status")

    after = characters(operator, clip)
    assert merged_fp not in {f["fingerprint"] for f in after}
    assert any(f["fingerprint"] == kept_fp for f in after)
    assert {(f["type"], f["analyzer"], f["series"]) for f in after} == {
        ("character", "VidiplugCharacterAnalyzer", SERIES)}


def test_a_named_character_is_recognised_by_the_next_analysis(start_service, operator: Operator,
                                                              data_dir: Path) -> None:
    cascade = data_dir / CASCADE_FILE
    app = start_service(characters__cascade=str(cascade), **DIRECT)
    clip = operator.import_file(data_dir / MEGAMIND)
    status, message = analyse(operator, clip, PARAMETER)
    assert status == "FINISHED", message
    first = characters(operator, clip)
    screen: dict[str, float] = {}
    for f in first:
        if f["name"] == "Unknown":
            screen[f["fingerprint"]] = screen.get(f["fingerprint"], 0.0) + f["end"] - f["start"]
    named_fp = max(sorted(screen), key=lambda fp: screen[fp])  # the longest on screen: the same each run
    named_spans = {(f["start"], f["end"]) for f in first if f["fingerprint"] == named_fp}
    unknowns = unknown_items(operator)
    named_item = unknowns[named_fp]

    operator.set_fields(named_item, ("vcs_face_value", "Minion"))
    wait_for(lambda: {(f["start"], f["end"]) for f in characters(operator, clip)
                      if f["fingerprint"] == named_fp and f["name"] == "Minion"} == named_spans or None,
             120, "the timeline to show the new name")
    wait_for(lambda: status_of(operator, f"item/{named_item}")[0] == "FINISHED", 60, "the relabel's status")
    engine = CharacterEngine(SERIES, cascade)
    known = {i.id: i.name for i in app.store.load_gallery(engine.info, include_unknown=False).identities}
    assert known.get(named_fp) == "Minion"  # a known character of the series now, under its fingerprint

    # The clip analysed again: the character is recognised, under the name and the same fingerprint,
    # and its item is the only one for it.
    status, message = analyse(operator, clip, PARAMETER)
    assert status == "FINISHED", message
    second = characters(operator, clip)
    assert {f["name"] for f in second if f["fingerprint"] == named_fp} == {"Minion"}
    assert {f["fingerprint"] for f in second if f["name"] == "Minion"} == {named_fp}
    assert {(f["type"], f["analyzer"], f["series"]) for f in second} == {
        ("character", "VidiplugCharacterAnalyzer", SERIES)}
    assert operator.items_with("vcs_face_externalId", named_fp) == [named_item]
    assert field_values(operator.metadata(named_item), "vcs_face_value") == ["Minion"]

    # No other character comes back as a new unknown item: the stored ones are matched (look-alikes
    # too). A sighting of the named group that now resembles Minion and a look-alike alike is not
    # named (the margin) and may become an unknown of its own: only those may be new.
    extra = set(unknown_items(operator)) - set(unknowns)
    for f in second:
        if f["fingerprint"] in extra:
            assert any(start < f["end"] and f["start"] < end for start, end in named_spans), f
    # Not asserted: that the named character keeps every span it had. The first analysis grouped
    # sightings with an empty store, the second decides each against the stored vectors, and a
    # few ambiguous sightings move between stored characters (benchmarks/characters.py, "moved").


def test_character_detection_on_parallel_threads_finds_what_one_thread_finds(data_dir: Path) -> None:
    """Analysis detects on two threads: each needs a cascade classifier of its own (a shared one is not
    thread-safe and gave different boxes from run to run, so the same clip grouped differently)."""
    engine = CharacterEngine(SERIES, data_dir / CASCADE_FILE)

    def boxes(workers: int) -> list[tuple[float, ...]]:
        result = analyze_media(data_dir / MEGAMIND, engine, Gallery(engine.info), AnalyzeParams(workers=workers))
        return sorted((a.start_s, a.end_s, a.best_time_s, a.box.x1, a.box.y1, a.box.x2, a.box.y2)
                      for p in result.people for a in p.appearances)

    serial = boxes(1)
    assert serial and boxes(2) == serial and boxes(2) == serial


def test_autotrain_trains_a_series_from_its_character_images(start_service, operator: Operator,
                                                             data_dir: Path) -> None:
    cascade = data_dir / CASCADE_FILE
    series = "AutoSeries"
    app = start_service(service__autotrain=True, service__autotrain_debounce_s=0.2, characters__cascade=str(cascade),
                        service__training_collection=f"AutoSeries-{uuid.uuid4().hex[:8]}", **DIRECT)
    assert app.registration is not None
    training = app.registration.training_collection_id
    image = sorted((data_dir / "sytwu_anime_faces" / "face_dataset" / "kiara").iterdir())[0]
    item = operator.import_file(image, ("vcs_face_isTrainingMaterial", "true"), ("vcs_face_value", "Kiara"),
                                ("adu_av_series", series))

    operator.add_to_collection(training, item)

    wait_for(lambda: field_values(operator.metadata(item), "vcs_face_method") == ["TRAINED"], 240,
             "autotrain to train the series")
    engine = CharacterEngine(series, cascade)
    assert "Kiara" in {i.name for i in app.store.load_gallery(engine.info, include_unknown=False).identities}
    wait_for(lambda: generic(operator, f"collection/{training}").get("vidiplug_trainingRequested") == ["false"],
             60, "the request field to be cleared")
    parameters = generic(operator, f"collection/{training}")["vidiplug_jobParameter"]
    assert f"cognitive_service_AnimationModel={series}" in parameters and "vidiplugAutotrain=true" in parameters
