"""Peak and resting memory of analysing oversized media, vidiplug beside a plain full-size decode.

Writes, into a temporary folder, a 16000 x 16000 H.264 clip (3 frames, the issue's case)
and an 89 MP still as PNG and as JPEG (benchmarks/big_media.py), then measures each in a
fresh process (benchmarks/memory_probe.py: dlib engine, warmed up on a small shared
clip) twice: vidiplug's analysis, and the plain baseline that decodes the sampled frames
at full size and detects and embeds on them. Prints RSS in MB: warm (before the file),
peak (VmHWM) and rest (after it), and the ratio of the peaks. Needs ~4 GB free (the
baseline, and encoding the clip). Run:

    python benchmarks/memory.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
INPUTS = [
    ("16000x16000 H.264, 3 frames", "16000x16000.mp4", ["video", "--side", "16000", "--frames", "3"]),
    ("9450x9450 PNG (89 MP)", "9450x9450.png", ["image", "--side", "9450"]),
    ("9450x9450 JPEG (89 MP)", "9450x9450.jpg", ["image", "--side", "9450"]),
]


def run(script: str, *args: str) -> str:
    """stdout of ``benchmarks/SCRIPT`` in a fresh process; raises CalledProcessError on failure."""
    return subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True,
                          check=True).stdout


def measure(side: str, path: Path) -> dict[str, int]:
    """warm/peak/rest RSS (MB) and faces of ``side`` ("vidiplug" or "plain") handling ``path``."""
    result: dict[str, int] = json.loads(run("memory_probe.py", side, str(path)).splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, default=None, help="write the media here and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"{'input':30s} {'side':9s} {'warm MB':>8s} {'peak MB':>8s} {'rest MB':>8s} {'faces':>6s}")
        for label, name, how in INPUTS:
            path = folder / name
            if not path.exists():
                run("big_media.py", how[0], str(path), *how[1:])
            ours, plain = measure("vidiplug", path), measure("plain", path)
            for side, row in (("vidiplug", ours), ("plain", plain)):
                print(f"{label if side == 'vidiplug' else '':30s} {side:9s} {row['warm']:8d} {row['peak']:8d} "
                      f"{row['rest']:8d} {row['faces']:6d}")
            print(f"{'':30s} peak ratio vidiplug / plain: {ours['peak'] / plain['peak']:.2f}, "
                  f"above warm: {ours['peak'] - ours['warm']} MB vs {plain['peak'] - plain['warm']} MB")


if __name__ == "__main__":
    main()
