"""Video Indexer's ``animatedCharacters`` JSON for the analysis of a series (an AnalysisResult).

Each character: ``id``, ``name``, ``isKnownCharacter``, ``confidence``, ``thumbnailId``,
``seenDuration``, ``seenDurationRatio``, ``appearances`` (``startTime``/``endTime`` as
``H:MM:SS.fff`` plus ``startSeconds``/``endSeconds``) and, beyond Video Indexer, ``instances``:
every sighting's time and box (x1, y1, x2, y2 pixels), which is how a still image reports where
each character is. Characters are numbered in order of first appearance; unknown ones are named
``Unknown #N`` in that order. ``thumbnailId`` is the character's fingerprint (the CLI writes
``<thumbnailId>.jpg``), so it stays the same across analyses against one store.
"""

from __future__ import annotations

from vidiplug.pipeline.results import AnalysisResult, PersonResult


def vi_time(seconds: float) -> str:
    """``H:MM:SS.fff`` as Video Indexer writes times."""
    millis = int(round(max(0.0, seconds) * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _first_seen(person: PersonResult) -> float:
    return min((a.start_s for a in person.appearances), default=float("inf"))


def animated_characters_json(result: AnalysisResult, series: str) -> dict[str, object]:
    """The whole document: the series (``animationModel``), the media's duration and its ``animatedCharacters``."""
    duration = 0.0 if result.media.is_image else float(result.media.duration_s or 0.0)
    seen_at: dict[str, list[tuple[float, list[float]]]] = {}
    for face in result.faces:
        if face.fingerprint is not None:
            seen_at.setdefault(face.fingerprint, []).append((round(face.time_s, 3), face.box.as_list()))
    characters: list[dict[str, object]] = []
    unknowns = 0
    for number, person in enumerate(sorted(result.people, key=_first_seen), start=1):
        if not person.known:
            unknowns += 1
        runs = [(0.0, 0.0)] if result.media.is_image else [(a.start_s, a.end_s) for a in person.appearances]
        seen = sum(end - start for start, end in runs)
        characters.append({
            "id": number,
            "name": person.name if person.known and person.name else f"Unknown #{unknowns}",
            "isKnownCharacter": person.known,
            "confidence": round(person.confidence, 4),
            "thumbnailId": person.fingerprint,
            "seenDuration": round(seen, 3),
            "seenDurationRatio": round(min(1.0, seen / duration), 4) if duration > 0 else 0.0,
            "appearances": [
                {"startTime": vi_time(start), "endTime": vi_time(end),
                 "startSeconds": round(start, 3), "endSeconds": round(end, 3)}
                for start, end in runs
            ],
            "instances": [{"seconds": t, "box": box}
                          for t, box in sorted(seen_at.get(person.fingerprint, []), key=lambda pair: pair[0])],
        })
    return {"animationModel": series, "duration": round(duration, 3), "animatedCharacters": characters}
