"""Values the analysis produces: face records in tracks, people with appearances, the whole result of one run.

Pure data; render/ and the CLI turn these into documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from vidiplug.engine.base import Box, EngineInfo
from vidiplug.engine.emotion import EmotionModelInfo
from vidiplug.media.probe import MediaInfo
from vidiplug.pipeline.insights import CustomInsights, ModelFailure


@dataclass(frozen=True)
class Appearance:
    """One consolidated on-screen presence of an identity.

    ``start_s``/``end_s`` are seconds from the start of the media (``end_s`` is the
    last sampled time the face was seen plus one sampling interval, capped at the media
    duration); ``confidence`` is the best recognition confidence in the span (for
    unknown identities: the similarity to their fingerprint, 1.0 when just created);
    ``box`` is the best face's box and ``best_time_s`` when it was seen.
    """

    start_s: float
    end_s: float
    confidence: float
    box: Box
    best_time_s: float

    @property
    def duration_s(self) -> float:
        return max(0.0, self.end_s - self.start_s)


@dataclass(frozen=True)
class PersonResult:
    """Everything found about one identity in one media file.

    ``name`` is None for unknown identities; ``fingerprint`` is a UUID string (for a
    known person: their identity id in the gallery/store; for an unknown: the unknown
    fingerprint, reused across runs when a store is used). ``thumbnail_jpeg`` is a
    tight JPEG crop of the best face, or None.
    """

    fingerprint: str
    name: str | None
    known: bool
    confidence: float
    appearances: tuple[Appearance, ...]
    thumbnail_jpeg: bytes | None = None
    is_new: bool = False

    @property
    def seen_duration_s(self) -> float:
        return sum(a.duration_s for a in self.appearances)


@dataclass(frozen=True)
class FaceRecord:
    """One face in one sampled frame: the unit of the analysis record.

    ``time_s`` is the sampled frame's media time, ``box`` the face in the source picture's
    pixels, ``det_score`` the detector's score, ``quality`` the face quality used to pick
    representative faces, ``track_id`` the track it belongs to. ``fingerprint`` and
    ``score`` are the identity decision: the fingerprint the face's track was reported as
    (None: not reported) and that decision's confidence (0.0 when none). ``attributes`` is
    an open, read-only mapping for per-face findings such as emotion or a character.
    """

    time_s: float
    box: Box
    det_score: float
    quality: float
    track_id: int
    fingerprint: str | None = None
    score: float = 0.0
    attributes: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class TrackRecord:
    """One face track: the faces that vidiplug followed as one person across sampled frames.

    ``fingerprint`` is the identity the track was reported as (a ``PersonResult``'s
    fingerprint), or None when it was not reported (a suppressed fingerprint, or a doubtful
    unknown). ``faces`` are its face records, in time order.
    """

    id: int
    fingerprint: str | None
    faces: tuple[FaceRecord, ...]

    @property
    def times_s(self) -> tuple[float, ...]:
        """Its faces' sampled times."""
        return tuple(face.time_s for face in self.faces)

    @property
    def boxes(self) -> tuple[Box, ...]:
        """Its faces' boxes."""
        return tuple(face.box for face in self.faces)


@dataclass(frozen=True)
class AnalysisResult:
    """The outcome of analysing one media file.

    ``frames_analyzed`` counts sampled frames run through the detector,
    ``faces_embedded`` the faces that went through the recogniser, ``elapsed_s`` the
    wall time of the analysis and ``analyzed_at`` when it finished (UTC). ``tracks`` is the
    analysis record: every face track with its face records and the fingerprint it was
    reported as; ``people`` are consolidated from it (``pipeline/people.py``). ``emotion`` is
    the expression model that scored every face (each face record's ``attributes["emotion"]``),
    None when emotion was not asked for; ``faces_emotion_scored`` counts its network runs.
    ``custom_insights`` are what the custom models run on it found (``pipeline/byom.py``),
    ``model_failures`` the models that failed (the faces are kept all the same).
    """

    media: MediaInfo
    engine: EngineInfo
    providers: tuple[str, ...]
    interval_s: float
    frames_analyzed: int
    faces_embedded: int
    people: tuple[PersonResult, ...]
    analyzed_at: datetime
    elapsed_s: float
    tracks: tuple[TrackRecord, ...] = ()
    emotion: EmotionModelInfo | None = None
    faces_emotion_scored: int = 0
    custom_insights: tuple[CustomInsights, ...] = ()
    model_failures: tuple[ModelFailure, ...] = ()

    @property
    def faces(self) -> tuple[FaceRecord, ...]:
        """Every face record of the analysis, track by track."""
        return tuple(face for track in self.tracks for face in track.faces)

    @property
    def unknown_count(self) -> int:
        return sum(1 for p in self.people if not p.known)

    @property
    def appearance_count(self) -> int:
        return sum(len(p.appearances) for p in self.people)
