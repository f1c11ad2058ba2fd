"""One memory measurement in a fresh process: analyse FILE with vidiplug, or decode it the plain way.

Builds the dlib engine and analyses a small shared clip first (a warm service), then
handles FILE and prints one JSON line with RSS in MB: ``warm`` (before FILE), ``peak``
(the process's high-water mark, VmHWM) and ``rest`` (after FILE, once its objects are
gone). VmHWM is this process's own: unlike ``getrusage(RUSAGE_CHILDREN)`` in the parent,
it does not include the parent's memory, which a child inherits until it execs.

    python benchmarks/memory_probe.py vidiplug|plain FILE

``plain`` is what a script on face_recognition does: decode each sampled frame (one a
second) or the image to full-size RGB (PyAV ``to_ndarray``, Pillow + numpy), then detect
and embed on it with the same engine.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

import av
import numpy as np
from PIL import Image

from shared_clips import DATA
from vidiplug.engine.dlib import DlibEngine
from vidiplug.media.probe import is_image_path
from vidiplug.pipeline.analyze import analyze_media
from vidiplug.pipeline.heap import release_free_heap

WARM_UP_CLIP = DATA / "face_recognition/examples/short_hamilton_clip.mp4"


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory (``VmRSS``) or its high-water mark (``VmHWM``), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status (Linux only)")


def plain(path: Path, engine: DlibEngine) -> int:
    """Faces found decoding ``path`` at full size, one frame a second; the plain baseline."""
    if is_image_path(path):
        with Image.open(path) as opened:
            images = [np.asarray(opened.convert("RGB"))]
    else:
        images = []
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            next_s = 0.0
            for frame in container.decode(stream):
                time_s = float(frame.pts * stream.time_base) if frame.pts is not None else next_s
                if time_s >= next_s:
                    images.append(frame.to_ndarray(format="rgb24"))
                    next_s += 1.0
    found = 0
    for image in images:
        faces = engine.detect(image)
        engine.embed(image, faces)
        found += len(faces)
    return found


def main() -> None:
    side, path = sys.argv[1], Path(sys.argv[2])
    engine = DlibEngine()
    analyze_media(WARM_UP_CLIP, engine)
    gc.collect()
    release_free_heap()
    warm = rss_mb()
    if side == "vidiplug":
        result = analyze_media(path, engine)
        faces = sum(len(person.appearances) for person in result.people)
        del result
    else:
        faces = plain(path, engine)
    gc.collect()
    rest = rss_mb()
    print(json.dumps({"warm": round(warm), "peak": round(rss_mb("VmHWM")), "rest": round(rest), "faces": faces}))


if __name__ == "__main__":
    main()
