"""Seed 001's custom-insight schema, validated strictly: every error names the field at fault."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from vidiplug.errors import ModelError
from vidiplug.pipeline.insights import format_time, insights_json, parse_custom_insights, parse_time

GOOD: dict[str, Any] = {
    "name": "tattoo", "displayName": "Tattoo's model", "displayType": "CapsuleAndTag",
    "results": [{"id": 1, "type": "Dragon", "subType": "Leg tattoo", "metaData": "",
                 "instances": [{"confidence": 0.49, "adjustedStart": "0:00:32.72", "adjustedEnd": "0:00:42.72",
                                "start": "0:00:32.72", "end": "0:00:42.72"}]}],
}


def broken(path: list[Any], value: Any) -> dict[str, Any]:
    answer = copy.deepcopy(GOOD)
    target = answer
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return answer


def test_the_seed_sample_is_accepted_and_written_back_the_same() -> None:
    insights = parse_custom_insights(GOOD, "tattoo")
    instance = insights.results[0].instances[0]
    assert (instance.start_s, instance.end_s, instance.confidence) == (pytest.approx(32.72), pytest.approx(42.72), 0.49)
    again = insights_json(insights)
    assert again["results"][0]["instances"][0]["start"] == "0:00:32.72"
    assert again["results"][0]["id"] == "1" and again["displayType"] == "CapsuleAndTag"
    assert parse_custom_insights(again, "tattoo") == insights


@pytest.mark.parametrize(("path", "value", "field"), [
    (["results"], KeyError, "results"),
    (["displayName"], KeyError, "displayName"),
    (["displayType"], "Tags", "displayType"),
    (["name"], "someone-else", "name"),
    (["results", 0, "id"], None, "results[0].id"),
    (["results", 0, "type"], 7, "results[0].type"),
    (["results", 0, "instances"], {}, "results[0].instances"),
    (["results", 0, "instances", 0, "start"], "32.72", "results[0].instances[0].start"),
    (["results", 0, "instances", 0, "adjustedEnd"], "0:61:00.00", "results[0].instances[0].adjustedEnd"),
    (["results", 0, "instances", 0, "end"], "0:00:01.00", "results[0].instances[0].end"),
    (["results", 0, "instances", 0, "confidence"], 1.5, "results[0].instances[0].confidence"),
    (["results", 0, "instances", 0, "confidence"], True, "results[0].instances[0].confidence"),
    (["results", 0, "WikiDataId"], "57F", "results[0].WikiDataId"),
    (["results", 0, "subType"], "tab\x00null", "results[0].subType"),
    (["results", 0, "metaData"], "x" * 5000, "results[0].metaData"),
])
def test_a_malformed_answer_fails_naming_the_field(path: list[Any], value: Any, field: str) -> None:
    with pytest.raises(ModelError) as caught:
        parse_custom_insights(broken(path, value), "tattoo")
    assert caught.value.field == field
    assert caught.value.model == "tattoo" and field in str(caught.value)


def test_duplicate_ids_and_non_objects_are_refused() -> None:
    answer = copy.deepcopy(GOOD)
    answer["results"].append(copy.deepcopy(answer["results"][0]))
    with pytest.raises(ModelError, match=r"results\[1\]\.id"):
        parse_custom_insights(answer, "tattoo")
    with pytest.raises(ModelError, match="answer"):
        parse_custom_insights(["not", "an", "object"], "tattoo")


def test_markup_in_texts_is_kept_as_text() -> None:
    answer = broken(["results", 0, "type"], "<script>alert(1)</script>&amp;")
    assert parse_custom_insights(answer, "tattoo").results[0].type == "<script>alert(1)</script>&amp;"


def test_times_round_trip() -> None:
    assert format_time(3723.456) == "1:02:03.46"
    assert parse_time("01.02.03.46") == pytest.approx(3723.46)
    for bad in ("", "1:2:3.4", "0:00:60.00", "x"):
        with pytest.raises(ValueError):
            parse_time(bad)
