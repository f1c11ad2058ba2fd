"""Speed and memory of `analyze` against a plain face_recognition-style baseline, same engine.

For every engine that can run here and every clip, prints frames analysed per second,
faces embedded per second, the real-time factor (seconds of video per wall second) and
peak memory (max RSS of a fresh process per measurement), then the same for a baseline
that decodes every frame, converts it to RGB, and detects + embeds every face on every
sampled frame with no track reuse and no parallelism; and vidiplug with emotion on (the
expression model run once per embedded face: its real-time factor and the extra
milliseconds per face). Run:

    python benchmarks/analyze_speed.py [--interval 1.0] [--repeat 3] [--loop N] [CLIP ...]

Each measurement is a fresh process that builds the engine, then analyses the clip twice
in a row: the first run is "cold" (first analysis after start-up: a CLI call), the second
"warm" (the steady state of the service, which analyses job after job in one process).
Figures and the time ratio are the warm ones; the cold real-time factors are printed too.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from shared_clips import CAP12, CROWD_1080P, DATA, HAMILTON, S13, S29

DEFAULT_CLIPS = [S29, S13, HAMILTON, CAP12, CROWD_1080P]


def _engine(name: str) -> Any:
    from vidiplug.engine import load_engine
    from vidiplug.settings import EngineSettings

    return load_engine(EngineSettings(name=name))


def run_vidiplug(engine: Any, clip: str, interval_s: float, emotion: Any = None) -> dict[str, Any]:
    from vidiplug.pipeline.analyze import analyze_media
    from vidiplug.pipeline.params import AnalyzeParams

    started = time.perf_counter()
    result = analyze_media(Path(clip), engine, None, AnalyzeParams(interval_s=interval_s), emotion=emotion)
    wall = time.perf_counter() - started
    return {"wall_s": wall, "frames": result.frames_analyzed, "faces": result.faces_embedded,
            "duration_s": result.media.duration_s, "people": len(result.people),
            "emotion_scored": result.faces_emotion_scored}


def run_emotion(engine: Any, clip: str, interval_s: float) -> dict[str, Any]:
    """vidiplug with ``--emotion`` on: the expression model scores every embedded face (built once per process)."""
    from vidiplug.engine.emotion import EmotionClassifier

    global _CLASSIFIER
    if _CLASSIFIER is None:
        _CLASSIFIER = EmotionClassifier()
    return run_vidiplug(engine, clip, interval_s, emotion=_CLASSIFIER)


_CLASSIFIER: Any = None


def run_baseline(engine: Any, clip: str, interval_s: float) -> dict[str, Any]:
    import av

    started = time.perf_counter()
    frames = faces = 0
    with av.open(clip) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 25)
        every = max(1, round(fps * interval_s))
        duration_s = (container.duration or 0) / av.time_base
        for index, frame in enumerate(container.decode(stream)):
            image = frame.to_ndarray(format="rgb24")  # what cv2.VideoCapture.read() hands a script
            if index % every:
                continue
            found = engine.detect(image)
            engine.embed(image, found)
            frames += 1
            faces += len(found)
    wall = time.perf_counter() - started
    return {"wall_s": wall, "frames": frames, "faces": faces, "duration_s": duration_s, "people": None}


def _child(kind: str, engine_name: str, clip: str, interval_s: float, queue: Any) -> None:
    runner = {"vidiplug": run_vidiplug, "emotion": run_emotion}.get(kind, run_baseline)
    engine = _engine(engine_name)
    cold = runner(engine, clip, interval_s)
    figures = runner(engine, clip, interval_s)
    figures["cold_wall_s"] = cold["wall_s"]
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(figures)


def measure(kind: str, engine_name: str, clip: str, interval_s: float) -> dict[str, Any]:
    """Run one measurement in a fresh process (so peak memory is its own)."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_child, args=(kind, engine_name, clip, interval_s, queue))
    process.start()
    figures = queue.get(timeout=1800)
    process.join()
    return figures


def looped_copy(clip: str, times: int, folder: Path) -> str:
    """``clip`` played ``times`` times in a row, re-encoded (H.264, 2 s GOP) into ``folder``.

    Short clips mostly measure start-up; a looped copy measures the steady state on the
    same real pictures. The copy is derived from the shared data and deleted afterwards.
    """
    from fractions import Fraction

    import av

    target = folder / f"{Path(clip).stem}_x{times}.mp4"
    with av.open(clip) as probe:
        stream = probe.streams.video[0]
        rate = stream.average_rate or Fraction(25)
        width, height = stream.codec_context.width, stream.codec_context.height
    with av.open(str(target), "w") as out:
        video = out.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "veryfast", "g": str(int(round(float(rate) * 2)))}
        index = 0
        for _ in range(times):
            with av.open(clip) as source:
                for frame in source.decode(video=0):
                    frame = frame.reformat(width=width, height=height, format="yuv420p")
                    frame.pts, frame.time_base = index, Fraction(1) / Fraction(rate)
                    index += 1
                    for packet in video.encode(frame):
                        out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    return str(target)


def available_engines() -> list[str]:
    engines = ["dlib"]
    try:
        from vidiplug.engine.models import default_models_root, find_pack

        find_pack(default_models_root(), "buffalo_l")
        engines.append("insightface")
    except Exception as exc:  # noqa: BLE001 - any failure just means the engine cannot run here
        print(f"# insightface engine skipped: {exc}", file=sys.stderr)
    return engines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clips", nargs="*", help="clips (default: a set from ../shared/data)")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    parser.add_argument("--loop", type=int, default=1, metavar="N",
                        help="measure each clip played N times in a row (steady state; a re-encoded temporary copy)")
    args = parser.parse_args()
    clips = args.clips or [str(DATA / c) for c in DEFAULT_CLIPS]
    scratch = tempfile.TemporaryDirectory(prefix="vidiplug-bench-")
    if args.loop > 1:
        clips = [looped_copy(clip, args.loop, Path(scratch.name)) for clip in clips]
    rows = []
    for engine_name in available_engines():
        for clip in clips:
            figures = {}
            for kind in ("vidiplug", "emotion", "baseline"):
                runs = [measure(kind, engine_name, clip, args.interval) for _ in range(args.repeat)]
                best = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
                best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
                best["wall_runs_s"] = [round(r["wall_s"], 3) for r in runs]
                best["cold_wall_s"] = statistics.median(r["cold_wall_s"] for r in runs)
                figures[kind] = best
            ours, base, feel = figures["vidiplug"], figures["baseline"], figures["emotion"]
            rows.append({
                "engine": engine_name, "clip": Path(clip).name, "duration_s": round(ours["duration_s"], 2),
                "frames": ours["frames"], "faces_embedded": ours["faces"],
                "frames_per_s": round(ours["frames"] / ours["wall_s"], 2),
                "faces_per_s": round(ours["faces"] / ours["wall_s"], 2),
                "realtime_x": round(ours["duration_s"] / ours["wall_s"], 2),
                "cold_realtime_x": round(ours["duration_s"] / ours["cold_wall_s"], 2),
                "baseline_cold_realtime_x": round(base["duration_s"] / base["cold_wall_s"], 2),
                "peak_rss_mb": round(ours["peak_rss_mb"]),
                "baseline_realtime_x": round(base["duration_s"] / base["wall_s"], 2),
                "baseline_faces_embedded": base["faces"],
                "baseline_peak_rss_mb": round(base["peak_rss_mb"]),
                "time_ratio_vs_baseline": round(ours["wall_s"] / base["wall_s"], 3),
                "wall_s": round(ours["wall_s"], 3), "baseline_wall_s": round(base["wall_s"], 3),
                # --emotion per-face: one expression-model run per embedded face.
                "emotion_realtime_x": round(feel["duration_s"] / feel["wall_s"], 2),
                "emotion_faces_scored": feel["emotion_scored"],
                "emotion_extra_ms_per_face": round(1000 * (feel["wall_s"] - ours["wall_s"]) / max(1, feel["faces"]), 2),
                "emotion_wall_s": round(feel["wall_s"], 3),
            })
            if not args.json:
                r = rows[-1]
                print(f"{r['engine']:6} {r['clip']:34} {r['duration_s']:6.1f}s  {r['frames']:3} frames "
                      f"{r['frames_per_s']:6.1f} fr/s  {r['faces_per_s']:5.1f} faces/s  {r['realtime_x']:5.1f}x rt  "
                      f"(cold {r['cold_realtime_x']:5.1f}x)  {r['peak_rss_mb']:4} MB | baseline "
                      f"{r['baseline_realtime_x']:5.1f}x rt (cold {r['baseline_cold_realtime_x']:5.1f}x) "
                      f"{r['baseline_peak_rss_mb']:4} MB | time ratio {r['time_ratio_vs_baseline']:.2f} | emotion "
                      f"{r['emotion_realtime_x']:5.1f}x rt ({r['emotion_extra_ms_per_face']:+.1f} ms/face)", flush=True)
    scratch.cleanup()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        total_video = sum(r["duration_s"] for r in rows)
        ours = sum(r["wall_s"] for r in rows)
        base = sum(r["baseline_wall_s"] for r in rows)
        print(f"all clips: {total_video:.1f} s of video, vidiplug {total_video / ours:.1f}x real time, "
              f"baseline {total_video / base:.1f}x, time ratio {ours / base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
