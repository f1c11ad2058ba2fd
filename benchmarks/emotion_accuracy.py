"""Accuracy of the expression model on hand-labelled faces from ../shared/data, with the confusion of the classes.

``emotion_labels.csv`` (beside this script) lists photos and video frames (``time_s`` set)
from the shared data, each labelled with one of seed 003's classes by looking at the
face (see benchmarks/EMOTION_LABELS.md for its sources, licences and how it was made).
For each row the largest face the dlib detector finds (at least 40 px) is scored, as
``vidiplug analyze --emotion`` scores faces; rows where no such face is found are counted
as missed, not dropped. Run:

    python benchmarks/emotion_accuracy.py [--labels benchmarks/emotion_labels.csv] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shared_clips import DATA

LABELS = Path(__file__).resolve().parent / "emotion_labels.csv"
MIN_FACE_PX = 40


def frame_at(clip: Path, time_s: float) -> NDArray[np.uint8]:
    """The first decoded frame of ``clip`` at or after ``time_s``, RGB."""
    import av

    with av.open(str(clip)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= time_s - 1e-3:
                image: NDArray[np.uint8] = frame.to_ndarray(format="rgb24")
                return image
    raise ValueError(f"{clip}: no frame at {time_s} s")


def picture(row: dict[str, str]) -> NDArray[np.uint8]:
    from vidiplug.media.images import load_image

    path = DATA / row["path"]
    return frame_at(path, float(row["time_s"])) if row["time_s"] else load_image(path)


def evaluate(labels: Path) -> dict[str, Any]:
    """Accuracy, per-class recall and the confusion (truth -> predicted -> count) over ``labels``."""
    from vidiplug.engine.dlib import DlibEngine
    from vidiplug.engine.emotion import SEED_CLASSES, EmotionClassifier, dominant

    engine, classifier = DlibEngine(), EmotionClassifier()
    with labels.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    confusion: dict[str, Counter[str]] = {c: Counter() for c in SEED_CLASSES}
    for row in rows:
        image = picture(row)
        faces = [d for d in engine.detect(image) if min(d.box.width, d.box.height) >= MIN_FACE_PX]
        if not faces:
            confusion[row["label"]]["(no face)"] += 1
            continue
        face = max(faces, key=lambda d: d.box.area)
        confusion[row["label"]][dominant(classifier.classify(image, [face.box])[0])] += 1
    correct = sum(confusion[c][c] for c in SEED_CLASSES)
    return {
        "model": classifier.info.as_dict(),
        "faces": len(rows),
        "accuracy": round(correct / len(rows), 3) if rows else None,
        "recall": {c: round(confusion[c][c] / sum(confusion[c].values()), 3)
                   for c in SEED_CLASSES if sum(confusion[c].values())},
        "confusion": {c: dict(confusion[c]) for c in SEED_CLASSES if confusion[c]},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    args = parser.parse_args()
    report = evaluate(args.labels)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    model = report["model"]
    print(f"model {model['name']} ({model['package']} {model['version']}, {model['licence']}; "
          f"missing {', '.join(model['missingClasses']) or 'none'})")
    print(f"{report['faces']} labelled faces, accuracy {report['accuracy']:.3f}")
    columns = [*model["classes"], "(no face)"]
    print(f"{'truth/predicted':18}" + "".join(f"{c[:9]:>10}" for c in columns) + f"{'recall':>9}")
    for truth, row in report["confusion"].items():
        print(f"{truth:18}" + "".join(f"{row.get(c, 0):>10}" for c in columns) + f"{report['recall'][truth]:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
