"""Consolidate sampled sightings of one identity into appearances (timespans).

Pure functions on plain records.
"""

from __future__ import annotations

from dataclasses import dataclass

from vidiplug.engine.base import Box
from vidiplug.pipeline.results import Appearance


@dataclass(frozen=True)
class Sighting:
    """An identity seen at ``time_s`` with ``confidence`` and ``box`` (one sampled face)."""

    time_s: float
    confidence: float
    box: Box


def consolidate(
    sightings: list[Sighting],
    *,
    interval_s: float,
    duration_s: float,
    tolerance_s: float | None = None,
    max_span_s: float = 0.0,
) -> list[Appearance]:
    """Join sightings into appearances.

    A sighting at time t stands for [t, t + interval_s). Two sightings stay in one
    appearance when the unseen time between them — (next - previous - interval_s) — is
    at most one interval plus ``tolerance_s`` (default a quarter interval), so one missed
    sample (a head turn, a blink of the detector) does not split an appearance.
    ``max_span_s`` > 0 splits appearances longer than that (seed 002's "maximum length
    of consolidated time span"). Ends are capped at ``duration_s`` when it is known (> 0).
    """
    if interval_s <= 0:
        raise ValueError("interval_s must be positive")
    tolerance = interval_s * 0.25 if tolerance_s is None else tolerance_s
    ordered = sorted(sightings, key=lambda s: s.time_s)
    groups: list[list[Sighting]] = []
    for sighting in ordered:
        if groups:
            group = groups[-1]
            gap = sighting.time_s - group[-1].time_s - interval_s
            too_long = max_span_s > 0 and sighting.time_s + interval_s - group[0].time_s > max_span_s + 1e-9
            if gap <= interval_s + tolerance + 1e-9 and not too_long:
                group.append(sighting)
                continue
        groups.append([sighting])
    return [_appearance(group, interval_s, duration_s) for group in groups]


def _appearance(group: list[Sighting], interval_s: float, duration_s: float) -> Appearance:
    start = group[0].time_s
    end = group[-1].time_s + interval_s
    if duration_s > 0:
        end = min(end, duration_s)
    end = max(end, start)
    best = max(group, key=lambda s: s.confidence)
    return Appearance(
        start_s=round(start, 3),
        end_s=round(end, 3),
        confidence=round(best.confidence, 4),
        box=best.box,
        best_time_s=best.time_s,
    )
