"""AnalyzeParams: the knobs of one analysis, with their defaults (defined once, here)."""

from __future__ import annotations

from dataclasses import dataclass

from vidiplug.errors import ParameterError


@dataclass(frozen=True)
class AnalyzeParams:
    """How to analyse one media file.

    ``interval_s``: seconds between sampled frames (smaller finds short appearances, costs
    more). ``threshold``: recognition confidence in [0, 1] needed to name a known person or
    reuse a stored fingerprint (0.5 = the engine's usual decision point; raise to avoid
    false names, lower to name more faces). ``min_face_px``: faces smaller than this
    (shorter box side, pixels) are ignored. ``max_span_s``: split appearances longer than
    this (0 = never). ``import_unknowns``: create fingerprints for faces matching nobody.
    ``keep_vectors``: representative embeddings kept per unknown fingerprint.
    ``workers``: threads detecting faces in parallel. ``detection_threshold``: the
    detection threshold, the one knob of that name everywhere (config
    ``analysis.detection_threshold``, job parameter ``DetectionThreshold``, CLI
    ``--detection-threshold``): detection score in [0, 1] a face needs to be analysed at
    all. The engines report faces from their own decision point (0.5), so lower values act
    as 0.5. ``unknown_min_detection``: a new unknown
    fingerprint needs at least one face detected this confidently (naming a face as a
    known person is evidence enough; creating a new identity from a doubtful detection
    fills the archive with patches and posters).

    Raises ParameterError naming the first parameter out of range.
    """

    interval_s: float = 1.0
    threshold: float = 0.5
    min_face_px: int = 24
    max_span_s: float = 0.0
    import_unknowns: bool = True
    keep_vectors: int = 8
    workers: int = 2
    detection_threshold: float = 0.5
    unknown_min_detection: float = 0.6

    def __post_init__(self) -> None:
        if not self.interval_s > 0:
            raise ParameterError("interval_s", self.interval_s, "must be positive")
        for name in ("threshold", "detection_threshold", "unknown_min_detection"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ParameterError(name, value, "must be between 0 and 1")
        if self.min_face_px < 1:
            raise ParameterError("min_face_px", self.min_face_px, "must be at least 1")
        if self.max_span_s < 0:
            raise ParameterError("max_span_s", self.max_span_s, "must not be negative")
        for name in ("workers", "keep_vectors"):
            if getattr(self, name) < 1:
                raise ParameterError(name, getattr(self, name), "must be at least 1")
