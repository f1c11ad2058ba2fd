"""Recognition quality of vidiplug beside a plain face_recognition-style loop, in one run.

    python benchmarks/quality.py [--only clips,programme,photos] [--no-baseline] [--json] [--cache DIR]
                                 [--baseline-distance D] [--interval S] [--detect-size PX]

vidiplug runs ``analyze_media`` with the dlib engine's and AnalyzeParams' defaults (or the
``--interval`` / ``--detect-size`` given, to price a setting in quality and speed); the
baseline is quality_baseline's loop (HOG upsample 1 on the frame nearest each second,
nearest gallery vector within face_recognition's tolerance, 0.6 on dlib's raw descriptors =
0.42 between unit vectors, unknowns grouped by the nearest earlier unknown face; each group
counts as one track). One engine is loaded once and serves both sides.

* clips: every ``*.truth.csv`` clip in the shared data with its reference photos as the
  gallery (quality_data.GALLERIES): per-second recall and precision with ±1 s tolerance,
  wrong person-seconds, identity switches, track purity (minimum, impure tracks), wall
  time and real-time factor.
* programme: the shared single-person clips and the truth clips joined into one 1280x720
  video (programme.py), analysed with an empty gallery: identity switches, track purity,
  BCubed precision/recall of the unknown fingerprints, fingerprints against true people.
* photos: leave-one-out top-1 and stranger false-accept rate (quality_photos.py).

The metrics are defined in quality_metrics.py. Truth times are media times; both sides
report stream times, so a clip whose video stream starts late (Hamilton: 0.84 s) is
shifted by that offset before scoring. Progress goes to stderr; the table (or, with
``--json``, one JSON document) to stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from programme import Programme, load_programme
from quality_baseline import DISTANCE, Detector, Namer, run_clip
from quality_baseline import report as baseline_report
from quality_data import TruthClip, labelled_photos, read_labels, truth_clips
from quality_metrics import (
    Report,
    Span,
    Track,
    Truth,
    bcubed,
    identity_switches,
    realtime_factor,
    recall_precision,
    track_purity,
    true_people,
)
from quality_photos import baseline_identify, embed_photos, score, vidiplug_identify
from shared_clips import DATA

PARTS = ("clips", "programme", "photos")
SIDES = ("vidiplug", "baseline")
WIDE = 40  # clip column


def load_gallery(clip: TruthClip, engine: Any) -> Any:
    """The clip's reference photos as a vidiplug Gallery."""
    from vidiplug.identity.gallery import Gallery, Identity, IdentityKind, id_for_name
    from vidiplug.media.images import load_image
    from vidiplug.pipeline.enroll import face_for_enrolment, load_folder_gallery

    gallery = Gallery(engine.info)
    if clip.gallery.folder is not None:
        load_folder_gallery(DATA / clip.gallery.folder, engine, into=gallery)
    for name, photo in clip.gallery.files:
        vector = face_for_enrolment(load_image(DATA / photo), engine).embedding
        gallery.add(Identity(id_for_name(name), name, IdentityKind.KNOWN), vector[None, :])
    return gallery


def stream_offset_s(path: Path) -> float:
    """Media time of the video stream's first instant (its start minus the container's)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        start = float((stream.start_time or 0) * stream.time_base) if stream.time_base else 0.0
        return start - (container.start_time or 0) / av.time_base


def vidiplug_report(result: Any, offset_s: float) -> Report:
    """An AnalysisResult as a Report in the truth's time line: appearances as spans, tracks with their person."""
    people = {p.fingerprint: p for p in result.people}

    def label(fingerprint: str | None) -> str | None:
        person = people.get(fingerprint) if fingerprint is not None else None
        if person is None:
            return None
        return str(person.name) if person.known and person.name else str(person.fingerprint)

    spans = tuple(
        Span(str(label(p.fingerprint)), bool(p.known), a.start_s + offset_s, a.end_s + offset_s)
        for p in result.people for a in p.appearances
    )
    tracks = tuple(
        Track(str(t.id), label(t.fingerprint), tuple(s + offset_s for s in t.times_s), tuple(b.area for b in t.boxes))
        for t in result.tracks
    )
    return Report(spans, tracks)


def run_vidiplug(path: Path, engine: Any, gallery: Any, offset_s: float, params: Any) -> dict[str, Any]:
    """analyze_media on ``path`` with ``params`` (AnalyzeParams), timed: the Report and run facts."""
    from vidiplug.pipeline.analyze import analyze_media

    started = time.perf_counter()
    result = analyze_media(path, engine, gallery, params)
    wall = time.perf_counter() - started
    return {"report": vidiplug_report(result, offset_s), "wall_s": wall, "duration_s": result.media.duration_s,
            "frames": result.frames_analyzed, "faces": result.faces_embedded, "identities": len(result.people)}


def run_plain(
    path: Path, engine: Any, gallery: Any, offset_s: float, duration_s: float, distance: float
) -> dict[str, Any]:
    """The baseline loop on ``path`` against the gallery's vectors, timed: the Report and run facts."""
    names = [gallery.identities[int(owner)].name for owner in gallery.owners]
    namer = Namer(gallery.vectors, names, distance)
    started = time.perf_counter()
    faces, frames = run_clip(path, engine, Detector(), namer)
    wall = time.perf_counter() - started
    return {"report": baseline_report(faces, offset_s, duration_s), "wall_s": wall, "duration_s": duration_s,
            "frames": frames, "faces": len(faces), "identities": len({f.label for f in faces})}


def common_figures(truth: Truth, run: dict[str, Any]) -> dict[str, Any]:
    """Figures every clip gets: identity switches, purity, wall time, real-time factor, counts."""
    report: Report = run["report"]
    purity = track_purity(truth, report.tracks)
    return {
        "id_switches": identity_switches(truth, report.tracks),
        "purity_min": purity.minimum, "purity_mean": purity.mean, "impure_tracks": purity.impure,
        "tracks": len(report.tracks), "wall_s": run["wall_s"],
        "realtime_x": realtime_factor(run["duration_s"], run["wall_s"]),
        "frames": run["frames"], "faces": run["faces"], "identities": run["identities"],
    }


def clip_figures(truth: Truth, gallery_names: set[str], run: dict[str, Any]) -> dict[str, Any]:
    """A truth clip's figures for one side."""
    scored = recall_precision(truth, run["report"].spans, gallery_names)
    return {"recall": scored.recall, "precision": scored.precision, "wrong_person_s": scored.wrong,
            "required_person_s": scored.required, "named_person_s": scored.named, **common_figures(truth, run)}


def programme_figures(programme: Programme, run: dict[str, Any]) -> dict[str, Any]:
    """The programme's figures for one side (nobody enrolled: grouping only)."""
    grouped = bcubed(programme.truth, run["report"].tracks)
    return {"bcubed_precision": grouped.precision, "bcubed_recall": grouped.recall, "bcubed_items": grouped.items,
            "dropped_faces": grouped.dropped, "fingerprints": run["identities"],
            "people": len(true_people(programme.truth)), **common_figures(programme.truth, run)}


def measure_clips(engine: Any, sides: tuple[str, ...], distance: float, params: Any) -> list[dict[str, Any]]:
    """Both sides on every truth clip."""
    rows = []
    for clip in truth_clips(DATA):
        path, truth = DATA / clip.clip, clip.truth(DATA)
        gallery = load_gallery(clip, engine)
        names = {identity.name for identity in gallery.identities}
        offset = stream_offset_s(path)
        row: dict[str, Any] = {"clip": clip.clip, "gallery": sorted(names), "offset_s": round(offset, 3)}
        ours = run_vidiplug(path, engine, gallery, offset, params)
        row["duration_s"] = ours["duration_s"]
        row["vidiplug"] = clip_figures(truth, names, ours)
        if "baseline" in sides:
            plain = run_plain(path, engine, gallery, offset, ours["duration_s"], distance)
            row["baseline"] = clip_figures(truth, names, plain)
        progress(row["clip"], row)
        rows.append(row)
    return rows


def measure_programme(
    engine: Any, sides: tuple[str, ...], cache: Path, distance: float, params: Any
) -> dict[str, Any]:
    """Both sides on the programme, with an empty gallery."""
    from vidiplug.identity.gallery import Gallery

    programme = load_programme(DATA, cache)
    row: dict[str, Any] = {"clip": "programme", "path": str(programme.path), "duration_s": programme.duration_s,
                           "segments": [vars(s) for s in programme.segments]}
    ours = run_vidiplug(programme.path, engine, Gallery(engine.info), 0.0, params)
    row["vidiplug"] = programme_figures(programme, ours)
    if "baseline" in sides:
        row["baseline"] = programme_figures(
            programme, run_plain(programme.path, engine, Gallery(engine.info), 0.0, programme.duration_s, distance))
    progress("programme", row)
    return row


def measure_photos(engine: Any, sides: tuple[str, ...], distance: float) -> dict[str, Any]:
    """Leave-one-out top-1 and stranger false accepts on the labelled photos."""
    photos = labelled_photos(read_labels(DATA))
    print(f"# photos: embedding {len(photos)} photos once", file=sys.stderr)
    probes = embed_photos(DATA, photos, engine, with_baseline="baseline" in sides)
    row: dict[str, Any] = {"photos": len(photos), "people": len({p.person for p in photos}),
                           "not_enrolled": sum(p.enrolled is None for p in probes)}
    for side in sides:
        started = time.perf_counter()
        scored = score(probes, vidiplug_identify(engine) if side == "vidiplug" else baseline_identify(distance))
        row[side] = {"top1": scored.top1, "top1_correct": scored.top1_correct, "top1_probes": scored.top1_probes,
                     "false_accept_rate": scored.false_accept_rate, "false_accepts": scored.false_accepts,
                     "stranger_probes": scored.stranger_probes, "wall_s": time.perf_counter() - started}
        print(f"# photos {side}: {row[side]}", file=sys.stderr)
    return row


def progress(name: str, row: dict[str, Any]) -> None:
    sides = "; ".join(f"{side} {row[side]['wall_s']:.1f} s" for side in SIDES if side in row)
    print(f"# {name}: {sides}", file=sys.stderr, flush=True)


def summary(doc: dict[str, Any], sides: tuple[str, ...]) -> dict[str, Any]:
    """Means over the truth clips, the programme's grouping, photo rates, and the time ratio."""
    out: dict[str, Any] = {}
    runs = doc.get("clips", []) + ([doc["programme"]] if "programme" in doc else [])
    for side in sides:
        figures: dict[str, Any] = {}
        for key in ("recall", "precision"):
            values = [c[side][key] for c in doc.get("clips", []) if c[side][key] is not None]
            figures[f"mean_{key}"] = statistics.fmean(values) if values else None
        if "programme" in doc:
            prog = doc["programme"][side]
            figures.update({k: prog[k] for k in ("bcubed_precision", "bcubed_recall", "fingerprints", "people")})
        if "photos" in doc:
            figures.update({k: doc["photos"][side][k] for k in ("top1", "false_accept_rate")})
        figures["wall_s"] = sum(r[side]["wall_s"] for r in runs)
        out[side] = figures
    if "baseline" in sides and out["baseline"]["wall_s"]:
        out["time_ratio"] = out["vidiplug"]["wall_s"] / out["baseline"]["wall_s"]
    return out


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def print_table(doc: dict[str, Any], sides: tuple[str, ...]) -> None:
    """The human-readable report: one line per clip and side, then the summary lines."""
    head = f"{'clip':{WIDE}} {'side':9} {'recall':>6} {'prec':>5} {'wrong':>5} {'switch':>6} {'pur.min':>7} " \
           f"{'impure':>6} {'wall s':>7} {'rt x':>6}"
    print(f"vidiplug ({doc['engine']}, {doc['settings']})"
          + (f" vs baseline (HOG upsample 1, distance {doc['baseline_distance']:.3f})" if "baseline" in sides else ""))
    print(head)
    rows = doc.get("clips", []) + ([doc["programme"]] if "programme" in doc else [])
    for row in rows:
        clip = Path(row["clip"])
        name = f"{clip.parts[0]}/{clip.name}"
        if row["clip"] == "programme":
            name = f"programme ({row['duration_s']:.0f} s)"
        for side in sides:
            f = row[side]
            line = (f"{name if side == sides[0] else '':{WIDE}} {side:9} {fmt(f.get('recall')):>6} "
                    f"{fmt(f.get('precision')):>5} {fmt(f.get('wrong_person_s')):>5} {f['id_switches']:>6} "
                    f"{fmt(f['purity_min']):>7} {f['impure_tracks']:>6} {f['wall_s']:>7.1f} "
                    f"{fmt(f['realtime_x'], 1):>6}")
            if row["clip"] == "programme":
                line += (f"  BCubed P {fmt(f['bcubed_precision'])} R {fmt(f['bcubed_recall'])} "
                         f"({f['bcubed_items']} faces, {f['dropped_faces']} dropped), "
                         f"{f['fingerprints']} fingerprints / {f['people']} people")
            print(line)
    if "photos" in doc:
        photos = doc["photos"]
        for side in sides:
            p = photos[side]
            print(f"{'photos' if side == sides[0] else '':{WIDE}} {side:9} top-1 {fmt(p['top1'])} "
                  f"({p['top1_correct']}/{p['top1_probes']}), false accepts {fmt(p['false_accept_rate'])} "
                  f"({p['false_accepts']}/{p['stranger_probes']})")
    for side in sides:
        s = doc["summary"][side]
        parts = [f"mean recall {fmt(s['mean_recall'])} precision {fmt(s['mean_precision'])} "
                 f"({len(doc.get('clips', []))} truth clips)"]
        if "bcubed_precision" in s:
            parts.append(f"programme BCubed P {fmt(s['bcubed_precision'])} R {fmt(s['bcubed_recall'])}, "
                         f"{s['fingerprints']} fingerprints / {s['people']} people")
        if "top1" in s:
            parts.append(f"photos top-1 {fmt(s['top1'])}, FA rate {fmt(s['false_accept_rate'])}")
        print(f"summary {side:9} " + " | ".join(parts))
    if "time_ratio" in doc["summary"]:
        print(f"time ratio vidiplug / baseline (wall, clips + programme): {doc['summary']['time_ratio']:.2f}")


def default_cache() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("vidiplug-bench"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts: clips,programme,photos")
    parser.add_argument("--no-baseline", action="store_true", help="measure vidiplug only")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    parser.add_argument("--cache", type=Path, default=None, help="folder for the built programme (default: user cache)")
    parser.add_argument("--baseline-distance", type=float, default=DISTANCE, metavar="D",
                        help=f"baseline's naming/grouping distance between unit vectors (default {DISTANCE:.3f}: "
                             "face_recognition's 0.6 on raw dlib descriptors)")
    parser.add_argument("--interval", type=float, default=None, metavar="S",
                        help="vidiplug's seconds between sampled frames (default: AnalyzeParams'; the baseline "
                             "always samples each second)")
    parser.add_argument("--detect-size", type=int, default=None, metavar="PX",
                        help="vidiplug's detection size, long side in pixels (default: the engine's)")
    args = parser.parse_args()
    if args.interval is not None and not args.interval > 0:
        parser.error(f"--interval must be positive, got {args.interval}")
    if args.detect_size is not None and args.detect_size < 64:
        parser.error(f"--detect-size must be at least 64 px, got {args.detect_size}")
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    sides = ("vidiplug",) if args.no_baseline else SIDES

    from vidiplug.engine import load_engine
    from vidiplug.engine.config import EngineSettings
    from vidiplug.pipeline.params import AnalyzeParams

    engine_settings = EngineSettings(name="dlib")
    if args.detect_size is not None:
        engine_settings = dataclasses.replace(engine_settings, detect_size_px=args.detect_size)
    params = AnalyzeParams() if args.interval is None else AnalyzeParams(interval_s=args.interval)
    engine = load_engine(engine_settings)
    settings = f"detect size {engine_settings.detect_size_px} px, interval {params.interval_s:g} s"
    doc: dict[str, Any] = {"engine": engine.info.key, "settings": settings, "sides": list(sides),
                           "baseline_distance": args.baseline_distance}
    try:
        if "clips" in parts:
            doc["clips"] = measure_clips(engine, sides, args.baseline_distance, params)
        if "programme" in parts:
            doc["programme"] = measure_programme(
                engine, sides, args.cache or default_cache(), args.baseline_distance, params)
        if "photos" in parts:
            doc["photos"] = measure_photos(engine, sides, args.baseline_distance)
    finally:
        close = getattr(engine, "close", None)
        if close is not None:
            close()
    doc["summary"] = summary(doc, sides)
    if args.json:
        print(json.dumps(doc, indent=2, default=str))
    else:
        print_table(doc, sides)
    return 0


if __name__ == "__main__":
    sys.exit(main())
