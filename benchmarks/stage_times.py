"""Where analyze's time goes: decoding, detection and embedding timed apart, on one thread each.

For each clip (dlib engine, interval 1.0 by default) prints, as the median of ``--repeat``
runs in this process (after one warm-up run):

- decode: vidiplug's sampling decode (only the sampled frames and what they refer to, with
  the detector's grey picture made by the decoder's scaler) against decoding every frame
  to RGB, as a plain script does; per second of video, and the ratio;
- detect: milliseconds per sampled frame, on the decoder-made grey picture against the
  engine converting and scaling the RGB frame itself, and the ratio;
- embed: milliseconds per face (alignment + the 128-D ResNet);
- emotion: milliseconds per face of ``--emotion`` (crop, grey, 64x64, the expression
  model), the faces of a frame in one batch as analyze runs them.

analyze runs detection on ``workers`` threads beside a decode thread, so its wall time is
less than the sum of these stages. Run:

    python benchmarks/stage_times.py [--repeat 5] [--interval 1.0] [CLIP ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import av

from shared_clips import CROWD_1080P, DATA, S29
from vidiplug.engine import load_engine
from vidiplug.engine.base import Detection, Engine
from vidiplug.engine.config import EngineSettings
from vidiplug.engine.emotion import EmotionClassifier
from vidiplug.media import Frame, iter_media_frames, probe_media

DEFAULT_CLIPS = [S29, CROWD_1080P]


def median_s(run: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``run`` over ``repeat`` calls, after one untimed warm-up call."""
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def decode_all_rgb(clip: Path) -> int:
    """Decode every frame of the first video stream to RGB (what a plain script does)."""
    count = 0
    with av.open(str(clip)) as container:
        for frame in container.decode(video=0):
            frame.to_ndarray(format="rgb24")
            count += 1
    return count


def sampled(clip: Path, engine: Engine, interval_s: float) -> list[Frame]:
    """The frames analyze samples, each with the engine's grey picture."""
    info = probe_media(clip)
    return list(iter_media_frames(clip, info, interval_s, luma_size=engine.luma_size))


def stage_row(clip: Path, engine: Engine, interval_s: float, repeat: int, classifier: EmotionClassifier) -> str:
    """One clip's stage times as a printable line."""
    duration_s = probe_media(clip).duration_s
    frames = sampled(clip, engine, interval_s)
    ours_decode = median_s(lambda: sampled(clip, engine, interval_s), repeat)
    all_decode = median_s(lambda: decode_all_rgb(clip), repeat)
    luma_detect = median_s(lambda: [engine.detect(f.image, f.luma) for f in frames], repeat)
    rgb_detect = median_s(lambda: [engine.detect(f.image) for f in frames], repeat)
    found: list[list[Detection]] = [engine.detect(f.image, f.luma) for f in frames]
    faces = sum(len(d) for d in found)
    embed = median_s(lambda: [engine.embed(f.image, d) for f, d in zip(frames, found) if d], repeat)
    emotion = median_s(lambda: [classifier.classify(f.image, [x.box for x in d]) for f, d in zip(frames, found) if d],
                       repeat)
    per_video_s = 1000.0 / duration_s
    return (
        f"{clip.name:24} {duration_s:5.1f}s {len(frames):3} frames {faces:3} faces | "
        f"decode {ours_decode * per_video_s:5.0f} ms per video s (every frame to RGB "
        f"{all_decode * per_video_s:5.0f}, ratio {ours_decode / all_decode:.2f}) | "
        f"detect {luma_detect / len(frames) * 1000:5.1f} ms a frame (from RGB "
        f"{rgb_detect / len(frames) * 1000:5.1f}, ratio {luma_detect / rgb_detect:.2f}) | "
        f"embed {embed / max(faces, 1) * 1000:5.1f} ms a face | "
        f"emotion {emotion / max(faces, 1) * 1000:5.1f} ms a face"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clips", nargs="*", help="clips (default: a set from ../shared/data)")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per stage; the median is reported")
    args = parser.parse_args()
    if args.repeat < 1 or args.interval <= 0:
        parser.error("--repeat must be at least 1 and --interval positive")
    clips = [Path(c) for c in args.clips] or [DATA / c for c in DEFAULT_CLIPS]
    engine = load_engine(EngineSettings(name="dlib"))
    classifier = EmotionClassifier()
    for clip in clips:
        print(stage_row(clip, engine, args.interval, args.repeat, classifier), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
