"""Video Indexer's ``animatedCharacters`` JSON for a CharacterAnalysis.

Each character: ``id``, ``name``, ``isKnownCharacter``, ``confidence``, ``thumbnailId``,
``seenDuration``, ``seenDurationRatio``, ``appearances`` (``startTime``/``endTime`` as
``H:MM:SS.fff`` plus ``startSeconds``/``endSeconds``) and, beyond Video Indexer, ``instances``:
every sighting's time and box (x1, y1, x2, y2 pixels), which is how a still image reports where
each character is.
"""

from __future__ import annotations

import uuid

from vidiplug.pipeline.characters import CharacterAnalysis, CharacterGroup

THUMBNAIL_NAMESPACE = uuid.UUID("5b0f4a8e-16c1-4c5e-9a39-2f1d0c6a7e16")


def vi_time(seconds: float) -> str:
    """``H:MM:SS.fff`` as Video Indexer writes times."""
    millis = int(round(max(0.0, seconds) * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours}:{minutes:02d}:{secs:02d}.{millis:03d}"


def appearances(group: CharacterGroup, interval_s: float, duration_s: float) -> list[tuple[float, float]]:
    """(start, end) seconds of a group's runs of sightings; a gap over 1.5 intervals starts a new run.

    Each sighting stands for one interval (clipped to the media's duration when known).
    """
    times = sorted({s.time_s for s in group.sightings})
    runs: list[tuple[float, float]] = []
    for time_s in times:
        end = time_s + interval_s if duration_s <= 0 else min(duration_s, time_s + interval_s)
        if runs and time_s - runs[-1][1] <= 0.5 * interval_s + 1e-9:
            runs[-1] = (runs[-1][0], max(runs[-1][1], end))
        else:
            runs.append((time_s, end))
    return runs


def thumbnail_id(series: str, group: CharacterGroup) -> str:
    """A stable id for a group's thumbnail (the file the CLI writes is ``<id>.jpg``)."""
    return str(uuid.uuid5(THUMBNAIL_NAMESPACE, f"{series}\n{group.number}\n{group.name}"))


def character_json(analysis: CharacterAnalysis, group: CharacterGroup) -> dict[str, object]:
    """One ``animatedCharacters`` entry."""
    runs = [(0.0, 0.0)] if analysis.is_image else appearances(group, analysis.interval_s, analysis.duration_s)
    seen = sum(end - start for start, end in runs)
    return {
        "id": group.number,
        "name": group.name,
        "isKnownCharacter": group.known,
        "confidence": round(sum(group.scores) / max(1, len(group.scores)), 4),
        "thumbnailId": thumbnail_id(analysis.series, group),
        "seenDuration": round(seen, 3),
        "seenDurationRatio": round(seen / analysis.duration_s, 4) if analysis.duration_s > 0 else 0.0,
        "appearances": [
            {"startTime": vi_time(start), "endTime": vi_time(end),
             "startSeconds": round(start, 3), "endSeconds": round(end, 3)}
            for start, end in runs
        ],
        "instances": [{"seconds": round(s.time_s, 3), "box": s.box.as_list()} for s in group.sightings],
    }


def animated_characters_json(analysis: CharacterAnalysis) -> dict[str, object]:
    """The whole document: the series (``animationModel``) and its ``animatedCharacters``."""
    return {
        "animationModel": analysis.series,
        "duration": round(analysis.duration_s, 3),
        "animatedCharacters": [character_json(analysis, group) for group in analysis.groups],
    }
