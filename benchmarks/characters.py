"""Animated characters: detection on Dexter's Laboratory, few-shot top-1 on anime faces, speed on Megamind.

Section ``detection``: the 307 face boxes of ../shared/data/dexters_lab/annotations.csv (200
frames, 480x360). A detection matches an annotated face when their IoU is >= ``--iou``
(default 0.5, PASCAL VOC's), one-to-one, greedily. Three detectors in the same run:
``cascade`` (the plain baseline: lbpcascade_animeface alone), ``skin`` (the Western-cartoon
skin-blob path alone) and ``vidiplug`` (CartoonDetector: cascade, then the skin blobs it misses).

Section ``fewshot``: ../shared/data/sytwu_anime_faces (10 characters x 8 face crops). For each
of ``--splits`` seeded random splits, 3 crops per character train (their mean vector is the
character's centroid) and the other 5 are tested: top-1 is the share of test crops whose most
similar centroid is their own character. Printed: mean and standard deviation over splits, and the
same for the colour-histogram block alone (a plain baseline); then the engine's naming rule on the
same splits (floor and best-versus-second margin): the share of test crops it names and the share of
those named right. The same again on the Dexter's Lab annotated faces of its 4 named characters
(52-85 crops each), a second, Western style.

Section ``speed``: CharacterEngine detect + embed on every frame of opencv_samples Megamind.avi
(270 frames, 11.26 s, 720x528): frames per second (decode excluded) and real-time factor
(engine seconds / clip seconds; below 1 is faster than real time).

Section ``reanalysis``: Megamind.avi analysed ``--runs`` times (default 3) with CharacterEngine
and one SQLite identity store, as the service does: unknown characters are stored after each run
and matched by the next. Per run: characters reported, new fingerprints minted, and sightings (face
records) whose fingerprint differs from the previous run's at the same time and place. A stable
store mints fingerprints on the first run only. The plain baseline is the first run itself (an
empty store: every character new).

    python benchmarks/characters.py [--section detection|fewshot|speed|reanalysis|all] [--runs 3]
                                    [--iou 0.5] [--splits 20] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from shared_clips import DATA
from vidiplug.engine.base import Box, Detection
from vidiplug.engine.calibration import DecisionRules
from vidiplug.engine.cartoon_detect import AnimeCascade, CartoonDetector, SkinBlobs
from vidiplug.engine.character import RULES, CharacterEngine
from vidiplug.engine.character_features import character_features
from vidiplug.identity.store import SqliteStore
from vidiplug.pipeline.analyze import analyze_media

DEXTER = DATA / "dexters_lab"
ANIME = DATA / "sytwu_anime_faces" / "face_dataset"
CASCADE = DATA / "lbpcascade_animeface" / "lbpcascade_animeface.xml"
MEGAMIND = DATA / "opencv_samples" / "opencv" / "samples" / "data" / "Megamind.avi"

Detector = Callable[[NDArray[np.uint8]], list[Detection]]


def read_rgb(path: Path) -> NDArray[np.uint8]:
    """An image file as RGB uint8."""
    image = cv2.imread(str(path))
    if image is None:
        raise FileNotFoundError(path)
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def dexter_boxes(root: Path = DEXTER) -> dict[str, list[Box]]:
    """Annotated face boxes per frame file (relative path), every frame of validare/ present."""
    boxes: dict[str, list[Box]] = {f"validare/{p.name}": [] for p in sorted((root / "validare").glob("*.jpg"))}
    with (root / "annotations.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            boxes.setdefault(row["file"], []).append(
                Box(float(row["xmin"]), float(row["ymin"]), float(row["xmax"]), float(row["ymax"])))
    return boxes


def match_counts(found: list[Box], truth: list[Box], iou: float) -> tuple[int, int, int]:
    """(true positives, false positives, misses): greedy one-to-one matching by IoU >= ``iou``."""
    pairs = sorted(((f.iou(t), i, j) for i, f in enumerate(found) for j, t in enumerate(truth)), reverse=True)
    used_f: set[int] = set()
    used_t: set[int] = set()
    for value, i, j in pairs:
        if value < iou:
            break
        if i not in used_f and j not in used_t:
            used_f.add(i)
            used_t.add(j)
    return len(used_t), len(found) - len(used_f), len(truth) - len(used_t)


def detection_figures(detectors: dict[str, Detector], iou: float = 0.5) -> dict[str, dict[str, float]]:
    """Recall, precision, counts and ms per frame of each detector on the Dexter's Lab frames."""
    truth = dexter_boxes()
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for name_file, boxes in truth.items():
        image = read_rgb(DEXTER / name_file)
        for name, detect in detectors.items():
            start = time.perf_counter()
            found = [d.box for d in detect(image)]
            spent = time.perf_counter() - start
            tp, fp, fn = match_counts(found, boxes, iou)
            row = totals[name]
            row[0] += tp
            row[1] += fp
            row[2] += fn
            row[3] += spent
    figures = {}
    for name, (tp, fp, fn, spent) in totals.items():
        figures[name] = {
            "recall": tp / max(1.0, tp + fn), "precision": tp / max(1.0, tp + fp),
            "tp": tp, "fp": fp, "misses": fn, "ms_per_frame": 1000 * spent / max(1, len(truth)),
        }
    return figures


def default_detectors(cascade_path: Path = CASCADE) -> dict[str, Detector]:
    """The baseline (cascade alone), the skin path alone and vidiplug's combination."""
    cascade = AnimeCascade(cascade_path)
    return {"cascade": cascade.detect, "skin": SkinBlobs().detect, "vidiplug": CartoonDetector(cascade).detect}


def anime_vectors(describe: Callable[[NDArray[np.uint8]], NDArray[np.float32]] = character_features,
                  root: Path = ANIME) -> tuple[NDArray[np.float32], NDArray[np.int64], list[str]]:
    """(vectors, character index per vector, character names) of every crop under ``root``."""
    names = sorted(p.name for p in root.iterdir() if p.is_dir())
    rows, labels = [], []
    for index, name in enumerate(names):
        for path in sorted((root / name).iterdir()):
            rows.append(describe(read_rgb(path)))
            labels.append(index)
    return np.stack(rows).astype(np.float32), np.asarray(labels, dtype=np.int64), names


def few_shot_top1(vectors: NDArray[np.float32], labels: NDArray[np.int64], shots: int = 3,
                  splits: int = 20) -> list[float]:
    """Top-1 of nearest-centroid classification per seeded split (``shots`` training crops per character)."""
    results = []
    classes = sorted(set(labels.tolist()))
    for seed in range(splits):
        rng = np.random.default_rng(seed)
        train, test = [], []
        for label in classes:
            members = rng.permutation(np.flatnonzero(labels == label))
            train.append(members[:shots])
            test.extend(members[shots:].tolist())
        centroids = np.stack([vectors[idx].mean(axis=0) for idx in train])
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        predicted = np.asarray(classes)[(vectors[test] @ centroids.T).argmax(axis=1)]
        results.append(float((predicted == labels[test]).mean()))
    return results


def few_shot_naming(vectors: NDArray[np.float32], labels: NDArray[np.int64], rules: DecisionRules = RULES,
                    shots: int = 3, splits: int = 20) -> dict[str, float]:
    """The engine's naming rule on the same splits: share of test crops named and share named right.

    A crop is named when its best centroid clears ``rules.floor`` and beats the runner-up by
    ``rules.margin``; the others stay unknown (to be grouped and named by an archivist).
    """
    named = right = total = 0
    classes = sorted(set(labels.tolist()))
    for seed in range(splits):
        rng = np.random.default_rng(seed)
        train, test = [], []
        for label in classes:
            members = rng.permutation(np.flatnonzero(labels == label))
            train.append(members[:shots])
            test.extend(members[shots:].tolist())
        centroids = np.stack([vectors[idx].mean(axis=0) for idx in train])
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        scores = vectors[test] @ centroids.T
        ordered = np.sort(scores, axis=1)
        accepted = (ordered[:, -1] >= rules.floor) & (ordered[:, -1] - ordered[:, -2] >= rules.margin)
        truth = labels[test]
        named += int(accepted.sum())
        right += int((accepted & (np.asarray(classes)[scores.argmax(axis=1)] == truth)).sum())
        total += len(test)
    return {"named_share": named / max(1, total), "name_precision": right / max(1, named)}


def dexter_vectors(describe: Callable[[NDArray[np.uint8]], NDArray[np.float32]] = character_features,
                   root: Path = DEXTER) -> tuple[NDArray[np.float32], NDArray[np.int64], list[str]]:
    """(vectors, character index, names) of the annotated Dexter's Lab faces of named characters."""
    names: list[str] = []
    rows, labels = [], []
    with (root / "annotations.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["character"] == "unknown":
                continue
            image = read_rgb(root / row["file"])
            x1, y1 = max(0, int(row["xmin"])), max(0, int(row["ymin"]))
            crop = np.ascontiguousarray(image[y1:int(row["ymax"]), x1:int(row["xmax"])])
            if min(crop.shape[:2]) < 8:
                continue
            if row["character"] not in names:
                names.append(row["character"])
            rows.append(describe(crop))
            labels.append(names.index(row["character"]))
    return np.stack(rows).astype(np.float32), np.asarray(labels, dtype=np.int64), names


def colour_only(crop: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Baseline vector: one hue x saturation x value histogram of the whole crop."""
    hsv = cv2.cvtColor(cv2.resize(crop, (64, 64), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [18, 4, 4], [0, 180, 0, 256, 0, 256]).ravel()
    vector = np.sqrt(hist / max(1.0, float(hist.sum()))).astype(np.float32)
    return vector / max(1e-9, float(np.linalg.norm(vector)))


def speed_figures(path: Path = MEGAMIND, cascade_path: Path = CASCADE) -> dict[str, float]:
    """Frames per second and real-time factor of detect + embed on every frame of ``path``."""
    engine = CharacterEngine("benchmark", cascade_path)
    capture = cv2.VideoCapture(str(path))
    fps_clip = capture.get(cv2.CAP_PROP_FPS) or 25.0
    frames = faces = 0
    spent = 0.0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        rgb = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        start = time.perf_counter()
        found = engine.detect(rgb)
        engine.embed(rgb, found)
        spent += time.perf_counter() - start
        frames += 1
        faces += len(found)
    capture.release()
    clip_s = frames / fps_clip
    return {"frames": frames, "faces": faces, "fps": frames / max(spent, 1e-9),
            "realtime_factor": spent / max(clip_s, 1e-9), "clip_s": clip_s}


def reanalysis_figures(path: Path = MEGAMIND, cascade_path: Path = CASCADE, runs: int = 3,
                       ) -> dict[str, dict[str, float]]:
    """Per run of ``path`` against one store: characters, new fingerprints, sightings moved since the last run."""
    engine = CharacterEngine("benchmark", cascade_path)
    figures: dict[str, dict[str, float]] = {}
    previous: dict[tuple[float, int, int], str | None] | None = None
    with tempfile.TemporaryDirectory() as folder, SqliteStore(Path(folder) / "store.sqlite") as store:
        for run in range(1, runs + 1):
            result = analyze_media(path, engine, store.load_gallery(engine.info), store=store)
            sightings = {(round(f.time_s, 3), int(f.box.x1), int(f.box.y1)): f.fingerprint for f in result.faces}
            moved = 0 if previous is None else sum(previous.get(key, fp) != fp for key, fp in sightings.items())
            previous = sightings
            figures[f"run{run}"] = {"characters": len(result.people), "new": sum(p.is_new for p in result.people),
                                    "sightings": len(sightings), "moved": moved}
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=["detection", "fewshot", "speed", "reanalysis", "all"], default="all")
    parser.add_argument("--iou", type=float, default=0.5)
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report: dict[str, object] = {}
    if args.section in ("detection", "all"):
        report["detection"] = detection_figures(default_detectors(), args.iou)
    if args.section in ("fewshot", "all"):
        few: dict[str, dict[str, float]] = {}
        for data, load in (("anime", anime_vectors), ("dexter", dexter_vectors)):
            for name, describe in (("vidiplug", character_features), ("colour-histogram", colour_only)):
                vectors, labels, _ = load(describe)
                scores = few_shot_top1(vectors, labels, splits=args.splits)
                few[f"{data} {name}"] = {
                    "top1_mean": float(np.mean(scores)), "top1_std": float(np.std(scores)),
                    "top1_min": min(scores), "top1_max": max(scores), "splits": len(scores),
                    **few_shot_naming(vectors, labels, splits=args.splits)}
        report["fewshot"] = few
    if args.section in ("speed", "all"):
        report["speed"] = speed_figures()
    if args.section in ("reanalysis", "all"):
        report["reanalysis"] = reanalysis_figures(runs=args.runs)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for section, body in report.items():
        print(f"== {section}")
        if isinstance(body, dict) and all(isinstance(v, dict) for v in body.values()):
            for name, figures in body.items():
                print(f"  {name:18s} " + "  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                                                   for k, v in figures.items()))
        else:
            print("  " + "  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in body.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
