"""The analysis record and its consolidation: decisions → face records → people with appearances.

Pure functions: ``track_records`` writes every verified track's faces down with the
decision about them; ``people_from_records`` consolidates those records into people, one
per reported fingerprint, each with its appearances (spans.py). Nothing here reads
anything but its arguments, so the record can be re-consolidated with other settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vidiplug.identity.gallery import IdentityKind
from vidiplug.pipeline.identify import Decision
from vidiplug.pipeline.results import FaceRecord, PersonResult, TrackRecord
from vidiplug.pipeline.spans import Sighting, consolidate


@dataclass(frozen=True)
class IdentityFacts:
    """What a person's entry says besides their faces: ``name`` (None for an unknown),
    whether they are a trained person (``known``) and whether this run created them (``new``)."""

    name: str | None
    known: bool
    new: bool


def track_records(decisions: Sequence[Decision]) -> tuple[TrackRecord, ...]:
    """One TrackRecord per decision, its faces in time order, each carrying the decision."""
    records = []
    for decision in decisions:
        fingerprint = decision.identity.id if decision.reported and decision.identity is not None else None
        score = round(decision.confidence, 4) if fingerprint is not None else 0.0
        track = decision.track
        faces = tuple(
            FaceRecord(o.time_s, o.box, o.det_score, o.quality, track.id, fingerprint, score, o.attributes)
            for o in track.observations
        )
        records.append(TrackRecord(track.id, fingerprint, faces))
    return tuple(records)


def identity_facts(decisions: Sequence[Decision]) -> dict[str, IdentityFacts]:
    """Per reported fingerprint, the facts its person entry needs."""
    facts: dict[str, IdentityFacts] = {}
    for decision in decisions:
        identity = decision.identity
        if decision.reported and identity is not None:
            known = identity.kind is IdentityKind.KNOWN
            facts.setdefault(identity.id, IdentityFacts(identity.name if known else None, known, decision.is_new))
    return facts


def people_from_records(
    records: Sequence[TrackRecord],
    facts: Mapping[str, IdentityFacts],
    thumbnails: Mapping[str, bytes | None],
    *,
    interval_s: float,
    duration_s: float,
    max_span_s: float = 0.0,
) -> list[PersonResult]:
    """People in report order (known first by name, then unknown by first appearance).

    A person's confidence is the best score of their faces; their appearances join their
    faces' sampled times (``consolidate``: a face at t stands for [t, t + interval_s)).
    """
    faces: dict[str, list[FaceRecord]] = {}
    for record in records:
        if record.fingerprint is not None:
            faces.setdefault(record.fingerprint, []).extend(record.faces)
    people = []
    for fingerprint, seen in faces.items():
        fact = facts[fingerprint]
        sightings = [Sighting(face.time_s, face.score, face.box) for face in seen]
        appearances = consolidate(sightings, interval_s=interval_s, duration_s=duration_s, max_span_s=max_span_s)
        people.append(PersonResult(
            fingerprint=fingerprint,
            name=fact.name,
            known=fact.known,
            confidence=round(max(face.score for face in seen), 4),
            appearances=tuple(appearances),
            thumbnail_jpeg=thumbnails.get(fingerprint),
            is_new=fact.new,
        ))
    people.sort(key=lambda p: (not p.known, p.name or "", p.appearances[0].start_s if p.appearances else 0))
    return people
