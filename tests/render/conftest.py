"""Render fixtures: hand-made analysis records (no engine, no media) and the hostile names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from fractions import Fraction

import pytest

from support import HOSTILE_NAMES
from vidiplug.engine.base import Box, EngineInfo
from vidiplug.engine.dlib import RULES
from vidiplug.media.probe import MediaInfo
from vidiplug.pipeline.results import AnalysisResult, Appearance, PersonResult

ANALYZED_AT = datetime(2021, 8, 18, 8, 0, 46, 417000, tzinfo=UTC)
ENGINE = EngineInfo(name="dlib", model="hog+resnet", version="abc123", dim=128, rules=RULES)

Span = tuple[float, float]


@pytest.fixture(params=HOSTILE_NAMES, ids=[f"hostile{i}" for i in range(len(HOSTILE_NAMES))])
def hostile_name(request: pytest.FixtureRequest) -> str:
    """Each hostile name in turn."""
    name: str = request.param
    return name


@pytest.fixture
def control_name() -> str:
    """The name "Ann Lee" laced with characters XML 1.0 cannot hold (XML drops them, JSON keeps them)."""
    return "Ann\x00\x07\x1b Lee\x0b\x0c\ufffe\uffff"


@pytest.fixture
def make_media() -> Callable[..., MediaInfo]:
    """MediaInfo for a 640x360 video at ``rate`` fps (a Fraction or None), or a still image."""

    def make(rate: Fraction | None = Fraction(25), *, image: bool = False, duration_s: float = 60.0) -> MediaInfo:
        if image:
            return MediaInfo(path="/media/photo.jpg", duration_s=0.0, fps=0.0, width=640, height=360, is_image=True)
        fps = float(rate) if rate else 0.0
        return MediaInfo(path="/media/clip.mp4", duration_s=duration_s, fps=fps, width=640, height=360, frame_rate=rate)

    return make


@pytest.fixture
def make_person() -> Callable[..., PersonResult]:
    """A PersonResult seen on ``spans`` (start_s, end_s); unknown when ``name`` is None."""

    def make(
        name: str | None,
        spans: Sequence[Span],
        *,
        fingerprint: str | None = None,
        confidence: float = 0.9,
        box: Box = Box(64.0, 36.0, 192.0, 180.0),
        is_new: bool = False,
    ) -> PersonResult:
        appearances = tuple(
            Appearance(start_s=start, end_s=end, confidence=confidence, box=box, best_time_s=start)
            for start, end in spans
        )
        return PersonResult(
            fingerprint=fingerprint or f"fp-{name or 'unknown'}-{spans[0][0] if spans else 0}",
            name=name,
            known=name is not None,
            confidence=confidence,
            appearances=appearances,
            is_new=is_new,
        )

    return make


@pytest.fixture
def make_result(make_media: Callable[..., MediaInfo]) -> Callable[..., AnalysisResult]:
    """An AnalysisResult of ``people`` on ``media`` (default: 25 fps video)."""

    def make(people: Sequence[PersonResult], media: MediaInfo | None = None) -> AnalysisResult:
        return AnalysisResult(
            media=media or make_media(),
            engine=ENGINE,
            providers=("CPUExecutionProvider",),
            interval_s=1.0,
            frames_analyzed=60,
            faces_embedded=42,
            people=tuple(people),
            analyzed_at=ANALYZED_AT,
            elapsed_s=3.14159,
        )

    return make
