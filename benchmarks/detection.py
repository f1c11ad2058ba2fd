"""Face detection recall, precision and cost: vidiplug's dlib engine against plain dlib HOG.

Section ``faces``: the annotated faces in ../shared/data/dlib/examples/faces (imglab XML:
training.xml and testing.xml, whichever exist; boxes marked ignore='1' count neither as a
miss nor as a false positive). Detectors, in one run:

- baseline: ``dlib.get_frontal_face_detector()(rgb, 1)`` (HOG on colour, upsample 1 = 2x);
- vidiplug's engine at its default settings (``EngineSettings(name="dlib")``);
- the engine at each ``--detect-size`` N. It scales an image by min(2, N / long side), so on
  these ~500 px images every N >= 1000 runs at the same 2x; the ``scale`` column says what
  each detector ran at. Scale, not N, is what carries over to other frame sizes: in a
  1280x720 frame, detect size 1280 / 1920 / 2560 means scale 1 / 1.5 / 2.

A detection matches an annotated face when their IoU is >= ``--iou`` (default 0.3),
one-to-one, greedily by IoU. Why 0.3: these annotations were drawn around dlib's own HOG
boxes (square, the detector's window sizes), so at 2x the matches overlap by 0.68-0.99
(median ~0.94); at 1-1.5x, where HOG's smallest box (80 px / scale) is larger than the
small faces it still finds, they drop to 0.52-0.88. No detection of any detector here
overlaps a face by less than 0.52, so every threshold up to 0.5 gives the same counts; 0.5
(PASCAL VOC's) would sit right at the worst true match, 0.3 leaves a margin for boxes that
sit differently. The median and minimum IoU of the matches are printed so that such a
shift shows up before it costs matches.

Reported per detector: recall overall and by face size band (shorter side of the annotated
box: < 40, 40-80, >= 80 px), precision, false positives, the median detection time per image
(each image timed ``--repeat`` times after one warm-up call, median per image, then the
median over images; all detectors are timed in turns, image by image, so that load from
other processes falls on all of them alike) and that time over the baseline's. The engine's time includes its
5-point landmarks for each face found. Caveat: 18 faces in 4 images (PASCAL
VOC pictures that dlib's own detector examples use), so one face is 5.6 points of recall;
read it as "finds these sizes or not", not as a precise rate.

Section ``video``: what HOG costs on a 720p frame. One frame of azure_video_indexer/
friends.mp4 (640x360) is upscaled to 1280x720 with PIL, turned grey, resized to each
``--scales`` factor and timed as ``detector(grey, 0)`` (median of ``--runs``, the scales
timed in turns). HOG's window
is 80 px, so scale s finds faces down to about 80 / s px of the 720p frame: 2.0 for 40 px.

    python benchmarks/detection.py [--detect-size 500,750,1280,1920,2560] [--section faces|video|all] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from shared_clips import DATA

FACES_DIR = DATA / "dlib" / "examples" / "faces"
ANNOTATION_FILES = ("training.xml", "testing.xml")
VIDEO_CLIP = "azure_video_indexer/friends.mp4"
VIDEO_SIZE = (1280, 720)
BANDS: tuple[tuple[str, float, float], ...] = (("<40", 0.0, 40.0), ("40-80", 40.0, 80.0), (">=80", 80.0, float("inf")))

BoxT = tuple[float, float, float, float]  # x1, y1, x2, y2 (x2, y2 exclusive)
Detector = Callable[[NDArray[np.uint8]], list[BoxT]]


@dataclass(frozen=True)
class AnnotatedImage:
    """One image of an imglab file: its path, the faces to find, and the boxes to ignore."""

    path: Path
    faces: list[BoxT]
    ignored: list[BoxT]


@dataclass(frozen=True)
class ImageScore:
    """A detector's result on one image: ``matches`` as (face index, IoU), and its false positives."""

    matches: list[tuple[int, float]]
    false_positives: int


def parse_imglab(path: Path) -> list[AnnotatedImage]:
    """The images of an imglab XML file, with image paths resolved against the file's folder."""
    images = []
    for node in ET.parse(path).getroot().iter("image"):
        faces: list[BoxT] = []
        ignored: list[BoxT] = []
        for box in node.iter("box"):
            left, top = float(box.get("left", 0)), float(box.get("top", 0))
            rect = (left, top, left + float(box.get("width", 0)), top + float(box.get("height", 0)))
            (ignored if box.get("ignore", "0") == "1" else faces).append(rect)
        images.append(AnnotatedImage(path.parent / node.get("file", ""), faces, ignored))
    return images


def iou(a: BoxT, b: BoxT) -> float:
    """Intersection over union of two boxes (0 when either is empty)."""
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match(detections: Sequence[BoxT], faces: Sequence[BoxT], threshold: float) -> list[tuple[int, int, float]]:
    """One-to-one (detection index, face index, IoU) pairs with IoU >= ``threshold``, greedily by IoU."""
    pairs = sorted(((iou(d, f), i, j) for i, d in enumerate(detections) for j, f in enumerate(faces)), reverse=True)
    used_d: set[int] = set()
    used_f: set[int] = set()
    found = []
    for overlap, i, j in pairs:
        if overlap < threshold:
            break
        if i not in used_d and j not in used_f:
            used_d.add(i)
            used_f.add(j)
            found.append((i, j, overlap))
    return found


def score_image(detections: Sequence[BoxT], image: AnnotatedImage, threshold: float) -> ImageScore:
    """Match ``detections`` to the faces; unmatched detections on an ignored box are not false positives."""
    pairs = match(detections, image.faces, threshold)
    matched = {i for i, _, _ in pairs}
    false_positives = sum(
        1 for i, d in enumerate(detections)
        if i not in matched and not any(iou(d, box) >= threshold for box in image.ignored)
    )
    return ImageScore([(j, overlap) for _, j, overlap in pairs], false_positives)


def size_band(box: BoxT) -> str:
    """The size band of a face: its box's shorter side against ``BANDS``."""
    side = min(box[2] - box[0], box[3] - box[1])
    return next(name for name, low, high in BANDS if low <= side < high)


def interleaved_ms(calls: Sequence[Sequence[Callable[[], object]]], repeat: int) -> list[float]:
    """Per row of ``calls`` (a detector: one call per input, the same inputs in every row): median over
    inputs of the median ms of ``repeat`` calls.

    Calls are timed in turns (round by round, input by input, row by row), so that load from
    other processes falls on every row alike instead of on whichever ran at the wrong time.
    """
    runs: list[list[list[float]]] = [[[] for _ in row] for row in calls]
    for _ in range(repeat):
        for k in range(len(calls[0])):
            for d, row in enumerate(calls):
                started = time.perf_counter()
                row[k]()
                runs[d][k].append(time.perf_counter() - started)
    return [1000 * statistics.median(statistics.median(r) for r in per_input) for per_input in runs]


def evaluate(detect: Detector, images: Sequence[AnnotatedImage], pixels: Sequence[NDArray[np.uint8]],
             threshold: float) -> dict[str, Any]:
    """Recall (overall and by band), precision, false positives and match IoUs of ``detect``."""
    per_band = {name: [0, 0] for name, _, _ in BANDS}  # found, total
    overlaps: list[float] = []
    detections = false_positives = 0
    for image, rgb in zip(images, pixels):
        boxes = detect(rgb)
        score = score_image(boxes, image, threshold)
        detections += len(boxes)
        false_positives += score.false_positives
        overlaps += [overlap for _, overlap in score.matches]
        hit = {j for j, _ in score.matches}
        for j, face in enumerate(image.faces):
            counts = per_band[size_band(face)]
            counts[0] += j in hit
            counts[1] += 1
    faces = sum(total for _, total in per_band.values())
    true_positives = len(overlaps)
    return {
        "recall": round(true_positives / faces, 3) if faces else None,
        "found": true_positives,
        "faces": faces,
        "by_band": {name: {"found": f, "faces": t, "recall": round(f / t, 3) if t else None}
                    for name, (f, t) in per_band.items()},
        "detections": detections,
        "false_positives": false_positives,
        "precision": round(true_positives / (true_positives + false_positives), 3)
        if true_positives + false_positives else None,
        "match_iou_median": round(statistics.median(overlaps), 3) if overlaps else None,
        "match_iou_min": round(min(overlaps), 3) if overlaps else None,
    }


def hog_baseline() -> Detector:
    """Plain dlib: frontal HOG on the RGB image, upsample 1."""
    import dlib

    detector = dlib.get_frontal_face_detector()

    def detect(rgb: NDArray[np.uint8]) -> list[BoxT]:
        return [(r.left(), r.top(), r.right() + 1, r.bottom() + 1) for r in detector(rgb, 1)]  # dlib: inclusive corners

    return detect


def engine_detector(detect_size: int | None) -> tuple[Detector, Any]:
    """vidiplug's dlib engine (default settings, or ``detect_size_px``) as a Detector, and the engine."""
    from vidiplug.engine import load_engine
    from vidiplug.engine.config import EngineSettings

    if detect_size is None:
        engine = load_engine(EngineSettings(name="dlib"))
    else:
        engine = load_engine(EngineSettings(name="dlib", detect_size_px=detect_size))

    def detect(rgb: NDArray[np.uint8]) -> list[BoxT]:
        return [(d.box.x1, d.box.y1, d.box.x2, d.box.y2) for d in engine.detect(rgb)]

    return detect, engine


def engine_scales(detect_size: int, pixels: Sequence[NDArray[np.uint8]]) -> list[float]:
    """[min, max] scale the engine runs at on these images (its rule: min(2, N / long side))."""
    scales = [min(2.0, detect_size / max(p.shape[:2])) for p in pixels]
    return [round(min(scales), 2), round(max(scales), 2)]


def faces_section(detect_sizes: Sequence[int], threshold: float, repeat: int) -> dict[str, Any]:
    """Every detector on the annotated faces; rows in the order baseline, default, ``detect_sizes``."""
    from vidiplug.engine.config import EngineSettings

    files = [FACES_DIR / name for name in ANNOTATION_FILES if (FACES_DIR / name).is_file()]
    if not files:
        raise SystemExit(f"no imglab file ({', '.join(ANNOTATION_FILES)}) in {FACES_DIR}")
    images = [image for path in files for image in parse_imglab(path)]
    pixels = [np.asarray(Image.open(image.path).convert("RGB")) for image in images]
    default_size = EngineSettings(name="dlib").detect_size_px
    rows: list[dict[str, Any]] = [{"detector": "baseline HOG upsample 1", "detect_size": None, "scale": [2.0, 2.0]}]
    detectors = [hog_baseline()]
    engines = []
    try:
        for size in (None, *detect_sizes):
            detect, engine = engine_detector(size)
            detectors.append(detect)
            engines.append(engine)
            label = f"vidiplug default ({default_size})" if size is None else f"vidiplug detect {size}"
            rows.append({"detector": label, "detect_size": size or default_size,
                         "scale": engine_scales(size or default_size, pixels)})
        for row, detect in zip(rows, detectors):
            row.update(evaluate(detect, images, pixels, threshold))  # also each detector's warm-up
        times = interleaved_ms([[partial(detect, rgb) for rgb in pixels] for detect in detectors], repeat)
    finally:
        for engine in engines:
            close = getattr(engine, "close", None)
            if close is not None:
                close()
    for row, ms in zip(rows, times):
        row["median_ms"] = round(ms, 2)
        row["time_ratio_vs_baseline"] = round(ms / times[0], 2)
    return {
        "annotations": [str(path.relative_to(DATA)) for path in files],
        "images": len(images),
        "faces": sum(len(image.faces) for image in images),
        "ignored": sum(len(image.ignored) for image in images),
        "faces_by_band": {name: band["faces"] for name, band in rows[0]["by_band"].items()},
        "match_iou": threshold,
        "detectors": rows,
    }


def video_frame(clip: Path, at_s: float) -> Image.Image:
    """The first frame of ``clip`` at or after ``at_s`` seconds, upscaled to ``VIDEO_SIZE``, as RGB."""
    import av

    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= at_s:
                return frame.to_image().convert("RGB").resize(VIDEO_SIZE, Image.Resampling.BILINEAR)
    raise SystemExit(f"{clip} has no frame at {at_s} s")


def video_section(scales: Sequence[float], runs: int, at_s: float) -> dict[str, Any]:
    """HOG time and face count on the 720p frame resized by each of ``scales`` (median of ``runs``)."""
    import dlib

    detector = dlib.get_frontal_face_detector()
    grey = video_frame(DATA / VIDEO_CLIP, at_s).convert("L")
    rows = []
    works = []
    for scale in scales:
        size = (round(VIDEO_SIZE[0] * scale), round(VIDEO_SIZE[1] * scale))
        work = np.asarray(grey if size == grey.size else grey.resize(size, Image.Resampling.BILINEAR))
        works.append(work)
        rows.append({"scale": scale, "size": list(size), "equivalent_detect_size": size[0],
                     "smallest_face_px": round(80 / scale), "faces": len(detector(work, 0))})  # also the warm-up
    times = interleaved_ms([[partial(detector, work, 0)] for work in works], runs)
    for row, ms in zip(rows, times):
        row["median_ms"] = round(ms, 1)
        row["time_ratio_vs_first"] = round(ms / times[0], 2)
    return {"clip": VIDEO_CLIP, "at_s": at_s, "frame": list(VIDEO_SIZE), "runs": runs, "scales": rows}


def print_faces(section: dict[str, Any]) -> None:
    """The faces section as a table."""
    bands = section["faces_by_band"]
    print(f"faces: {section['faces']} annotated ({section['ignored']} ignored) in {section['images']} images "
          f"({', '.join(section['annotations'])}); match: IoU >= {section['match_iou']}, one-to-one")
    heads = "  ".join(f"{name} ({count})".rjust(10) for name, count in bands.items())
    print(f"{'detector':26} {'scale':>9}  {'recall':>6}  {heads}  {'prec':>5} {'FP':>3}  "
          f"{'IoU med/min':>11}  {'ms/image':>8}  {'x base':>6}")
    for r in section["detectors"]:
        lo, hi = r["scale"]
        scale = f"{lo:.2f}" if lo == hi else f"{lo:.2f}-{hi:.2f}"
        cells = "  ".join(f"{b['found']}/{b['faces']}".rjust(10) for b in r["by_band"].values())
        iou_cell = f"{r['match_iou_median']}/{r['match_iou_min']}" if r["match_iou_median"] is not None else "-"
        precision = f"{r['precision']:.3f}" if r["precision"] is not None else "-"
        print(f"{r['detector']:26} {scale:>9}  {r['recall']:6.3f}  {cells}  {precision:>5} {r['false_positives']:3}  "
              f"{iou_cell:>11}  {r['median_ms']:8.1f}  {r['time_ratio_vs_baseline']:6.2f}")


def print_video(section: dict[str, Any]) -> None:
    """The video section as a table."""
    width, height = section["frame"]
    print(f"video: HOG detector(grey, 0) on {section['clip']} at {section['at_s']} s upscaled to {width}x{height}, "
          f"median of {section['runs']}")
    print(f"{'scale':>5}  {'work size':>10}  {'~detect size':>12}  {'min face':>8}  {'faces':>5}  "
          f"{'ms':>7}  {'x 1.0':>5}")
    for r in section["scales"]:
        print(f"{r['scale']:5.2f}  {r['size'][0]:>5}x{r['size'][1]:<4}  {r['equivalent_detect_size']:12}  "
              f"{r['smallest_face_px']:>5} px  {r['faces']:5}  {r['median_ms']:7.1f}  {r['time_ratio_vs_first']:5.2f}")


def number_list(text: str, kind: Callable[[str], Any]) -> list[Any]:
    """A comma-separated list ("" or "none" = empty)."""
    return [] if text.strip().lower() in ("", "none") else [kind(part) for part in text.split(",")]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen sections and print a table each, or one JSON document with ``--json``."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--section", choices=("all", "faces", "video"), default="all")
    parser.add_argument("--detect-size", default="500,750,1280,1920,2560",
                        help="engine detect_size_px values to add to the default ('none' = only baseline and default)")
    parser.add_argument("--iou", type=float, default=0.3, help="IoU a detection needs to match a face")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per image (after one warm-up)")
    parser.add_argument("--scales", default="1.0,1.5,2.0", help="video section: scales of the 1280x720 frame")
    parser.add_argument("--runs", type=int, default=5, help="video section: timed calls per scale")
    parser.add_argument("--at", type=float, default=1.0, help="video section: frame time in seconds")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {}
    if args.section in ("all", "faces"):
        report["faces"] = faces_section(number_list(args.detect_size, int), args.iou, max(1, args.repeat))
        if not args.json:
            print_faces(report["faces"])
    if args.section in ("all", "video"):
        report["video"] = video_section(number_list(args.scales, float), max(1, args.runs), args.at)
        if not args.json:
            if "faces" in report:
                print()
            print_video(report["video"])
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
