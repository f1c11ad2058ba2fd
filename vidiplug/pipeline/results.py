"""Values the analysis produces: appearances per identity, the whole result of one run.

Pure data; render/ and the CLI turn these into documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vidiplug.engine.base import Box, EngineInfo
from vidiplug.media.probe import MediaInfo


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
class TrackRecord:
    """One face track: the faces that vidiplug followed as one person across sampled frames.

    ``fingerprint`` is the identity the track was reported as (a ``PersonResult``'s
    fingerprint), or None when it was not reported (a suppressed fingerprint, or a doubtful
    unknown). ``times_s`` and ``boxes`` are its sampled faces, in time order.
    """

    id: int
    fingerprint: str | None
    times_s: tuple[float, ...]
    boxes: tuple[Box, ...]


@dataclass(frozen=True)
class AnalysisResult:
    """The outcome of analysing one media file.

    ``frames_analyzed`` counts sampled frames run through the detector,
    ``faces_embedded`` the faces that went through the recogniser, ``elapsed_s`` the
    wall time of the analysis and ``analyzed_at`` when it finished (UTC). ``tracks`` lists
    every face track and the fingerprint it was reported as (for quality measurement:
    a track must never hold two people).
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

    @property
    def unknown_count(self) -> int:
        return sum(1 for p in self.people if not p.known)

    @property
    def appearance_count(self) -> int:
        return sum(len(p.appearances) for p in self.people)
