"""HTTP models against a real loopback plugin server: good, slow, failing and hostile plugins.

No sleeps: a slow plugin blocks on an event until the test is over, so only the client's
own timeout can end the call.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from byom_data import ANN, BOB, MEDIA, face, frames, result_with
from plugin_server import MARKUP, PluginServer, plugin_server
from vidiplug.errors import ConfigError, ModelError
from vidiplug.pipeline.byom import FrameSelection, ModelRequest, pick_frames, run_model, run_models
from vidiplug.plugins import available_models, load_models
from vidiplug.plugins.http import HttpModel
from vidiplug.settings import ModelSettings, load_settings

pytestmark = pytest.mark.timeout(120)
RESULT = result_with([face(1.0, ANN), face(1.0, BOB, track=2), face(2.0, None)])


@pytest.fixture(scope="module")
def server() -> Iterator[PluginServer]:
    with plugin_server() as running:
        yield running


def request(name: str) -> ModelRequest:
    chosen = tuple(pick_frames(frames([0.0, 1.0, 2.0]), RESULT, FrameSelection(), 1.0))
    return ModelRequest(name, MEDIA, 1.0, chosen, {ANN: "Ann"})


def model(server: PluginServer, kind: str, name: str = "probe", **kwargs: object) -> HttpModel:
    options: dict[str, object] = {"timeout_s": 10.0, "retries": 2, "backoff_s": 0.01, **kwargs}
    return HttpModel(name, server.url(f"/{kind}/{name}"), **options)  # type: ignore[arg-type]


def test_a_good_plugin_gets_frames_and_prior_insights(server: PluginServer) -> None:
    insights = run_model(model(server, "echo", "echo-one"), request("echo-one"))

    assert [r.type for r in insights.results] == ["0 faces", "2 faces", "1 faces"]
    assert insights.results[1].sub_type == "Ann" and insights.display_type == "CapsuleAndTag"
    body = server.bodies("/echo/echo-one")[-1]
    assert body["model"] == "echo-one" and body["media"]["width"] == 640 and body["everySeconds"] == 1.0
    second = body["frames"][1]
    assert second["timecode"] == "0:00:01.00" and (second["width"], second["height"]) == (64, 36)
    assert [(f["fingerprint"], f["name"]) for f in second["faces"]] == [(ANN, "Ann"), (BOB, None)]
    picture = Image.open(io.BytesIO(base64.b64decode(second["image"]["data"])))
    assert picture.format == "JPEG" and picture.size == (64, 36)


def test_a_slow_plugin_times_out_after_its_retries(server: PluginServer) -> None:
    slow = model(server, "slow", "slow", timeout_s=0.5, retries=1)
    with pytest.raises(ModelError) as caught:
        run_model(slow, request("slow"))
    assert caught.value.field == "request" and "0.5 s" in caught.value.reason and "2 tries" in caught.value.reason
    assert server.hits["slow"] == 2


def test_a_failing_plugin_is_retried_with_backoff_until_it_answers(server: PluginServer) -> None:
    insights = run_model(model(server, "flaky", "flaky", retries=3), request("flaky"))
    assert len(insights.results) == 3
    assert server.hits["flaky"] == server.flaky_failures + 1

    with pytest.raises(ModelError) as caught:
        run_model(model(server, "down", "down", retries=2), request("down"))
    assert caught.value.field == "answer" and "HTTP 500" in caught.value.reason and "3 tries" in caught.value.reason
    assert server.hits["down"] == 3


@pytest.mark.parametrize(("kind", "field", "words"), [
    ("huge", "answer", "over the limit"),
    ("stream", "answer", "over the limit"),
    ("wrong", "results[0].instances[0].start", "hh.mm.ss.ff"),
    ("missing", "results", "required"),
    ("notjson", "answer", "not JSON"),
    ("impostor", "name", "own name"),
    ("redirect", "answer", "HTTP 302"),
])
def test_a_hostile_plugin_fails_naming_the_field(server: PluginServer, kind: str, field: str, words: str) -> None:
    hostile = model(server, kind, "hostile", max_answer_bytes=64 * 1024)
    with pytest.raises(ModelError) as caught:
        run_model(hostile, request("hostile"))
    assert caught.value.field == field and words in caught.value.reason
    assert "127.0.0.1" not in str(caught.value)  # the configured URL is never shown


def test_markup_in_an_answer_stays_text(server: PluginServer) -> None:
    insights = run_model(model(server, "markup", "markup"), request("markup"))
    assert {r.type for r in insights.results} == {MARKUP}


def test_a_failing_plugin_leaves_the_faces_and_the_other_models(server: PluginServer, data_dir: Path) -> None:
    clip = data_dir / "face_recognition/examples/short_hamilton_clip.mp4"
    from vidiplug.media import probe_media

    result = result_with([face(1.0, ANN)], media=probe_media(clip))
    models = [model(server, "wrong", "broken"), model(server, "echo", "fine")]
    done = run_models(clip, result, models, FrameSelection(every_s=1.0, page_size=2))

    assert done.tracks == result.tracks and done.people == result.people
    assert [i.name for i in done.custom_insights] == ["fine"]
    assert [(f.name, f.field) for f in done.model_failures] == [("broken", "results[0].instances[0].start")]


def test_http_models_come_from_configuration_only(server: PluginServer) -> None:
    settings = load_settings(None, {"VIDIPLUG_MODELS__HTTP": f"logos={server.url('/echo/logos')}"}).models
    assert [(e.name, e.kind) for e in available_models(settings)][-1] == ("logos", "http")
    (loaded,) = load_models(["logos"], settings)
    assert isinstance(loaded, HttpModel) and loaded.url == server.url("/echo/logos")
    with pytest.raises(ModelError, match="neither installed nor configured"):
        load_models(["http://127.0.0.1:1/x"], settings)
    for bad in ("logos", "Logos=http://x/", "logos=file:///etc/passwd", "a=http://h/,a=http://h/"):
        with pytest.raises(ConfigError, match=r"models\.http"):
            load_settings(None, {"VIDIPLUG_MODELS__HTTP": bad})
    with pytest.raises(ConfigError, match="installed model"):
        available_models(ModelSettings(http=("shot-type=http://127.0.0.1:1/",)))
