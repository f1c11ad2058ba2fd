from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from vidiplug.engine.base import Box
from vidiplug.media.probe import MediaInfo
from vidiplug.pipeline.results import AnalysisResult, PersonResult
from vidiplug.render.json_report import build_json_report, render_json_report

MakePerson = Callable[..., PersonResult]
MakeResult = Callable[..., AnalysisResult]
MakeMedia = Callable[..., MediaInfo]


def types_of(mapping: dict[str, Any]) -> dict[str, type]:
    return {key: type(value) for key, value in mapping.items()}


def test_top_level_keys_and_types_are_exact(make_person: MakePerson, make_result: MakeResult) -> None:
    result = make_result([make_person("Ann", [(1.0, 2.0)])])

    report = json.loads(render_json_report(result))

    assert types_of(report) == {
        "media": dict, "engine": dict, "frames_analyzed": int, "faces_embedded": int, "interval": float,
        "analyzed_at": str, "elapsed": float, "people": list, "customInsights": list, "modelErrors": list,
    }
    assert report["customInsights"] == [] and report["modelErrors"] == []
    assert types_of(report["media"]) == {"path": str, "duration": float, "fps": float, "width": int, "height": int}
    assert types_of(report["engine"]) == {"name": str, "model": str, "version": str, "dim": int, "providers": list}


def test_person_and_appearance_keys_and_types_are_exact(make_person: MakePerson, make_result: MakeResult) -> None:
    result = make_result([make_person("Ann", [(1.0, 2.0)])])

    (person,) = json.loads(render_json_report(result, {result.people[0].fingerprint: "/thumbs/ann.jpg"}))["people"]

    assert types_of(person) == {
        "name": str, "fingerprint": str, "known": bool, "new": bool, "confidence": float,
        "seen_duration": float, "thumbnail": str, "appearances": list,
    }
    assert types_of(person["appearances"][0]) == {"start": float, "end": float, "confidence": float, "box": list}
    assert [type(v) for v in person["appearances"][0]["box"]] == [float] * 4


def test_values_are_rounded_to_the_documented_precision(
    make_person: MakePerson, make_result: MakeResult, make_media: MakeMedia
) -> None:
    person = make_person("Ann", [(1.23456, 2.34567), (3.0, 3.5)], confidence=0.876543,
                         box=Box(10.04, 20.06, 110.0, 140.0))
    result = make_result([person], make_media(Fraction(30000, 1001), duration_s=12.34567))

    report = build_json_report(result)

    assert report["media"] == {"path": "/media/clip.mp4", "duration": 12.346, "fps": 29.97, "width": 640, "height": 360}
    assert (report["interval"], report["elapsed"]) == (1.0, 3.142)
    (ann,) = report["people"]
    assert (ann["confidence"], ann["seen_duration"]) == (0.8765, 1.611)
    assert ann["appearances"] == [
        {"start": 1.235, "end": 2.346, "confidence": 0.8765, "box": [10.0, 20.1, 110.0, 140.0]},
        {"start": 3.0, "end": 3.5, "confidence": 0.8765, "box": [10.0, 20.1, 110.0, 140.0]},
    ]


def test_engine_and_run_facts_are_reported(make_result: MakeResult) -> None:
    report = build_json_report(make_result([]))

    assert report["engine"] == {"name": "dlib", "model": "hog+resnet", "version": "abc123", "dim": 128,
                                "providers": ["CPUExecutionProvider"]}
    assert (report["frames_analyzed"], report["faces_embedded"]) == (60, 42)
    assert report["analyzed_at"] == "2021-08-18T08:00:46Z"
    assert report["people"] == []


def test_unknown_person_has_a_null_name_and_a_fingerprint(make_person: MakePerson, make_result: MakeResult) -> None:
    result = make_result([make_person(None, [(1.0, 2.0)], fingerprint="fp-u1", is_new=True)])

    (person,) = build_json_report(result)["people"]

    assert (person["name"], person["fingerprint"], person["known"], person["new"]) == (None, "fp-u1", False, True)


def test_thumbnail_comes_from_the_mapping_or_is_null(make_person: MakePerson, make_result: MakeResult) -> None:
    people = [make_person("Ann", [(1.0, 2.0)], fingerprint="fp-ann"),
              make_person("Bob", [(1.0, 2.0)], fingerprint="fp-bob")]

    report = build_json_report(make_result(people), {"fp-ann": "/thumbs/fp-ann.jpg"})

    assert [(p["name"], p["thumbnail"]) for p in report["people"]] == [("Ann", "/thumbs/fp-ann.jpg"), ("Bob", None)]


def test_known_people_come_first_by_name_then_unknowns_by_first_appearance(
    make_person: MakePerson, make_result: MakeResult
) -> None:
    people = [
        make_person(None, [(30.0, 31.0)], fingerprint="late-unknown"),
        make_person("zoe", [(50.0, 51.0)]),
        make_person(None, [(40.0, 41.0), (2.0, 3.0)], fingerprint="early-unknown"),
        make_person("Adam", [(60.0, 61.0)]),
        make_person("Bea", [(1.0, 2.0)]),
    ]

    report = build_json_report(make_result(people))

    assert [p["name"] or p["fingerprint"] for p in report["people"]] == [
        "Adam", "Bea", "zoe", "early-unknown", "late-unknown"]
    assert [a["start"] for a in report["people"][3]["appearances"]] == [2.0, 40.0]


def test_hostile_name_round_trips_through_json(
    make_person: MakePerson, make_result: MakeResult, hostile_name: str
) -> None:
    result = make_result([make_person(hostile_name, [(1.0, 2.0)], fingerprint=hostile_name)])

    (person,) = json.loads(render_json_report(result, {hostile_name: hostile_name}))["people"]

    assert (person["name"], person["fingerprint"], person["thumbnail"]) == (hostile_name, hostile_name, hostile_name)


def test_control_characters_are_kept_in_json(
    make_person: MakePerson, make_result: MakeResult, control_name: str
) -> None:
    result = make_result([make_person(control_name, [(1.0, 2.0)])])

    text = render_json_report(result)

    assert json.loads(text)["people"][0]["name"] == control_name
    assert "\\u0000" in text


def test_report_text_is_indented_and_keeps_non_ascii(make_person: MakePerson, make_result: MakeResult) -> None:
    result = make_result([make_person("Zoë 😀", [(1.0, 2.0)])])

    text = render_json_report(result)

    assert text.startswith('{\n  "media": {\n    "path"')
    assert '"name": "Zoë 😀"' in text
    assert not text.endswith("\n")


def test_faces_adds_every_track_with_its_face_records(make_person: MakePerson, make_result: MakeResult) -> None:
    import dataclasses
    from types import MappingProxyType

    from vidiplug.pipeline.results import FaceRecord, TrackRecord

    ann = make_person("Ann", [(1.0, 3.0)], fingerprint="fp-ann")
    faces = (
        FaceRecord(1.0, Box(1.04, 2.0, 50.0, 60.0), 1.23456, 0.55556, 7, "fp-ann", 0.87654,
                   MappingProxyType({"emotion": "neutral"})),
        FaceRecord(2.0, Box(3.0, 2.0, 52.0, 60.0), 0.9, 0.5, 7, "fp-ann", 0.87654),
    )
    tracks = (TrackRecord(7, "fp-ann", faces), TrackRecord(8, None, (FaceRecord(4.0, Box(0, 0, 9, 9), 0.2, 0.1, 8),)))
    result = dataclasses.replace(make_result([ann]), tracks=tracks)

    assert "tracks" not in build_json_report(result)
    report = build_json_report(result, faces=True)

    assert [t["id"] for t in report["tracks"]] == [7, 8]
    first = report["tracks"][0]["faces"][0]
    assert types_of(first) == {"time": float, "box": list, "detection_score": float, "quality": float,
                               "fingerprint": str, "score": float, "attributes": dict}
    assert (first["detection_score"], first["quality"], first["score"]) == (1.2346, 0.5556, 0.8765)
    assert first["attributes"] == {"emotion": "neutral"}
    assert report["tracks"][1] == {"id": 8, "fingerprint": None, "faces": [
        {"time": 4.0, "box": [0.0, 0.0, 9.0, 9.0], "detection_score": 0.2, "quality": 0.1, "fingerprint": None,
         "score": 0.0, "attributes": {}}]}
    json.dumps(report)  # serialisable as is
