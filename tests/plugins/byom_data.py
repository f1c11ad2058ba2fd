"""Synthetic analysis results and frames for the "bring your own model" tests (no decoding)."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import numpy as np

from vidiplug.engine.base import Box, EngineInfo
from vidiplug.engine.dlib import RULES
from vidiplug.media import Frame
from vidiplug.media.probe import MediaInfo
from vidiplug.pipeline.results import AnalysisResult, Appearance, FaceRecord, PersonResult, TrackRecord

ENGINE = EngineInfo(name="dlib", model="hog+resnet", version="abc123", dim=128, rules=RULES)
MEDIA = MediaInfo(path="/media/clip.mp4", duration_s=10.0, fps=25.0, width=640, height=360,
                  frame_rate=Fraction(25))
ANN, BOB = "11111111-aaaa-4aaa-8aaa-000000000001", "22222222-bbbb-4bbb-8bbb-000000000002"


def face(time_s: float, fingerprint: str | None, height: float = 100.0, track: int = 1) -> FaceRecord:
    return FaceRecord(time_s=time_s, box=Box(10.0, 10.0, 10.0 + height * 0.8, 10.0 + height), det_score=0.9,
                      quality=0.8, track_id=track, fingerprint=fingerprint, score=0.7)


def result_with(faces: list[FaceRecord], media: MediaInfo = MEDIA, interval_s: float = 1.0) -> AnalysisResult:
    """An AnalysisResult whose record is ``faces`` (Ann known, Bob unknown)."""
    tracks = tuple(TrackRecord(i, f.fingerprint, (f,)) for i, f in enumerate(faces))
    people = (
        PersonResult(ANN, "Ann", True, 0.9, (Appearance(0.0, 1.0, 0.9, Box(0, 0, 1, 1), 0.0),)),
        PersonResult(BOB, None, False, 0.6, (Appearance(0.0, 1.0, 0.6, Box(0, 0, 1, 1), 0.0),)),
    )
    return AnalysisResult(media=media, engine=ENGINE, providers=("CPUExecutionProvider",), interval_s=interval_s,
                          frames_analyzed=10, faces_embedded=len(faces), people=people,
                          analyzed_at=datetime(2026, 1, 1, tzinfo=UTC), elapsed_s=1.0, tracks=tracks)


def frames(times: list[float], size: tuple[int, int] = (64, 36)) -> list[Frame]:
    width, height = size
    return [Frame(i, t, np.full((height, width, 3), 40 * (i % 6), np.uint8)) for i, t in enumerate(times)]
