"""Animated characters on real shared media: Dexter's Lab detection against its annotations, anime
few-shot top-1, grouping that never mixes two characters, Megamind appearances through the CLI, and
the train -> recognise round trip of a series through the store.

Figures are asserted a little under what benchmarks/characters.py measures (README), so a change that
loses detection or recognition fails here. The cascade is read from ../shared/data.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from vidiplug.cli import main
from vidiplug.engine.base import Box
from vidiplug.engine.character import RULES, CharacterEngine, series_of
from vidiplug.identity.store import open_store
from vidiplug.pipeline.analyze import analyze_media
from vidiplug.pipeline.characters import character_gallery, series_gallery, train_series
from vidiplug.pipeline.identify import group_unknowns
from vidiplug.pipeline.tracking import Observation, Track

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
CASCADE = DATA / "lbpcascade_animeface" / "lbpcascade_animeface.xml"
ANIME = DATA / "sytwu_anime_faces" / "face_dataset"
MEGAMIND = DATA / "opencv_samples" / "opencv" / "samples" / "data" / "Megamind.avi"
TIME = re.compile(r"^\d+:\d{2}:\d{2}\.\d{3}$")

pytestmark = pytest.mark.skipif(not (DATA / "dexters_lab" / "annotations.csv").is_file(),
                                reason="../shared/data is not present")


def _benchmark() -> ModuleType:
    bench = REPO / "benchmarks"
    if str(bench) not in sys.path:
        sys.path.insert(0, str(bench))
    spec = importlib.util.spec_from_file_location("characters_benchmark", bench / "characters.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _benchmark()


@pytest.fixture(scope="module")
def engine() -> CharacterEngine:
    return CharacterEngine("test-series", CASCADE)


def test_dexters_lab_detection_beats_the_plain_cascade(bench: ModuleType) -> None:
    detectors = bench.default_detectors(CASCADE)
    figures = bench.detection_figures({"cascade": detectors["cascade"], "vidiplug": detectors["vidiplug"]}, 0.5)
    # measured: cascade recall 0.007, vidiplug recall 0.537 / precision 0.367 (307 annotated faces)
    assert figures["cascade"]["recall"] < 0.05
    assert figures["vidiplug"]["recall"] >= 0.50
    assert figures["vidiplug"]["precision"] >= 0.33


def test_anime_few_shot_top1(bench: ModuleType) -> None:
    vectors, labels, names = bench.anime_vectors()
    assert len(names) == 10
    scores = bench.few_shot_top1(vectors, labels, shots=3, splits=20)
    # measured 0.781 +- 0.047 (target 0.90 not reached); the colour-histogram baseline gives 0.733
    assert float(np.mean(scores)) >= 0.75


def test_the_naming_rule_names_right_at_least_nine_times_in_ten_on_both_styles(bench: ModuleType) -> None:
    for load in (bench.anime_vectors, bench.dexter_vectors):
        vectors, labels, _ = load()
        figures = bench.few_shot_naming(vectors, labels, shots=3, splits=20)
        # measured: anime names 0.50 of the crops at precision 0.918, Dexter's Lab 0.53 at 0.939
        assert figures["name_precision"] >= 0.9, (load.__name__, figures)
        assert figures["named_share"] >= 0.4, (load.__name__, figures)


def test_two_characters_never_share_a_group_on_dexters_lab(bench: ModuleType, engine: CharacterEngine) -> None:
    truth: dict[str, list[tuple[Box, str]]] = {}
    with (DATA / "dexters_lab" / "annotations.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            box = Box(float(row["xmin"]), float(row["ymin"]), float(row["xmax"]), float(row["ymax"]))
            truth.setdefault(row["file"], []).append((box, row["character"]))
    # Each detection one track of one face (the frames are stills), grouped as analyze_media groups
    # unknown tracks; detections of one frame are seen together, so never grouped.
    tracks: list[Track] = []
    names: list[str] = []
    together: list[tuple[int, int]] = []
    for frame, (name_file, items) in enumerate(sorted(truth.items())):
        image = bench.read_rgb(DATA / "dexters_lab" / name_file)
        first = len(tracks)
        for detection in engine.detect(image):
            box, who = max(items, key=lambda item: detection.box.iou(item[0]))
            if detection.box.iou(box) >= 0.5 and who != "unknown":
                vector = engine.embed(image, [detection])[0]
                tracks.append(Track(id=len(tracks), shot=frame, observations=[
                    Observation(frame, float(frame), detection.box, detection.score, 1.0, vector)]))
                names.append(who)
        together += [(a, b) for a in range(first, len(tracks)) for b in range(a + 1, len(tracks))]
    assert len(set(names)) == 4 and len(names) > 100
    groups = group_unknowns(tracks, [], list(range(len(tracks))), together, RULES)
    members = [{names[i] for i in group} for group in groups]
    assert all(len(group) == 1 for group in members)
    assert len(groups) < len(names)  # some sightings did group together


def test_megamind_clip_gives_character_appearances(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    thumbs = tmp_path / "thumbs"
    code = main(["analyze", str(MEGAMIND), "--characters", "Megamind", "--cascade", str(CASCADE),
                 "--thumbnails", str(thumbs)])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    characters = document["animatedCharacters"]
    assert document["animationModel"] == "Megamind"
    assert len(characters) >= 2
    assert [c["name"] for c in characters] == [f"Unknown #{n}" for n in range(1, len(characters) + 1)]
    firsts = [c["appearances"][0]["startSeconds"] for c in characters]
    assert firsts == sorted(firsts)  # numbered in order of first appearance
    for character in characters:
        assert not character["isKnownCharacter"]
        assert 0 < character["seenDurationRatio"] <= 1
        assert (thumbs / f"{character['thumbnailId']}.jpg").is_file()
        for span in character["appearances"]:
            assert TIME.match(span["startTime"]) and TIME.match(span["endTime"])
            assert 0 <= span["startSeconds"] < span["endSeconds"] <= 11.27
    # the clip is dark for its first ~0.8 s
    assert min(firsts) >= 0.5


def test_reanalysing_megamind_against_the_store_mints_no_new_characters(bench: ModuleType) -> None:
    """The service's loop: analyse, store the unknowns, analyse again. Stored look-alike characters
    once made every later run mint new fingerprints (benchmarks/characters.py --section reanalysis)."""
    runs = bench.reanalysis_figures(runs=3)

    assert runs["run1"]["new"] == runs["run1"]["characters"] >= 2
    assert runs["run2"]["new"] == 0 and runs["run3"]["new"] == 0
    assert runs["run2"]["characters"] <= runs["run1"]["characters"]
    assert runs["run3"]["moved"] == 0  # settled: the third run assigns every sighting as the second did


def test_series_train_then_recognise_a_held_out_image(tmp_path: Path, engine: CharacterEngine) -> None:
    train = tmp_path / "train"
    held_out: dict[str, list[Path]] = {}
    for folder in sorted(ANIME.iterdir()):
        images = sorted(folder.iterdir())
        (train / folder.name).mkdir(parents=True)
        for image in images[:3]:
            (train / folder.name / image.name).symlink_to(image)
        held_out[folder.name] = images[3:]
    with open_store(tmp_path / "store.db") as store:
        outcomes = train_series(engine, store, train)
        assert sum(o.accepted for o in outcomes) == 30
        assert not any(o.accepted for o in train_series(engine, store, train))  # trained once only
        gallery = character_gallery(store, engine)
        other = CharacterEngine("another-series", CASCADE)
        assert len(series_gallery(store, other)) == 0  # one model per series
    assert series_of(engine.info) == "test-series"
    assert len(gallery) == 10
    named = correct = 0
    for who, images in held_out.items():
        for image in images:
            found = [p for p in analyze_media(image, engine, gallery).people if p.known]
            named += bool(found)
            correct += any(p.name == who for p in found)
    # measured: 10 of the 50 held-out images named (the others left unknown by the margin rule),
    # 8 of those 10 correctly; the cascade's tighter crops differ from the training crops. With
    # the margin at 0.02 it named 27 and 18 correctly (0.67): too many wrong names.
    assert named >= 8
    assert correct / named >= 0.75


def test_cli_train_and_still_image_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = tmp_path / "train"
    for who in ("gura", "ina"):
        (train / who).mkdir(parents=True)
        for image in sorted((ANIME / who).iterdir())[:3]:
            (train / who / image.name).symlink_to(image)
    store = str(tmp_path / "s.db")
    assert main(["characters", "train", "Holo<script>", str(train), "--store", store,
                 "--cascade", str(CASCADE)]) == 2  # a hostile series name is refused
    assert main(["characters", "train", "Holo", str(train), "--store", store, "--cascade", str(CASCADE)]) == 0
    capsys.readouterr()
    image = sorted((ANIME / "gura").iterdir())[-1]
    assert main(["analyze", str(image), "--characters", "Holo", "--store", store, "--cascade", str(CASCADE)]) == 0
    document = json.loads(capsys.readouterr().out)
    characters = document["animatedCharacters"]
    assert characters and all(len(c["instances"][0]["box"]) == 4 for c in characters)
    assert characters[0]["appearances"][0]["startTime"] == "0:00:00.000"


def test_cli_stores_unknown_characters_and_a_renamed_one_is_recognised_next_time(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "s.db")
    command = ["analyze", str(MEGAMIND), "--characters", "Megamind", "--cascade", str(CASCADE), "--store", store]

    def characters() -> list[dict[str, object]]:
        assert main(command) == 0
        found: list[dict[str, object]] = json.loads(capsys.readouterr().out)["animatedCharacters"]
        return found

    first = characters()
    assert len(first) >= 2 and not any(c["isKnownCharacter"] for c in first)
    # The unknowns are stored: the same clip again reports the same fingerprints and no new one.
    assert {c["thumbnailId"] for c in characters()} <= {c["thumbnailId"] for c in first}

    longest = max(first, key=lambda c: float(str(c["seenDuration"])))
    assert main(["people", "--store", store, "--rename", str(longest["thumbnailId"]), "Minion"]) == 0
    capsys.readouterr()
    after = characters()
    named = [c for c in after if c["thumbnailId"] == longest["thumbnailId"]]
    assert named and named[0]["name"] == "Minion" and named[0]["isKnownCharacter"]
    assert all(c["name"] != "Minion" for c in after if c["thumbnailId"] != longest["thumbnailId"])
