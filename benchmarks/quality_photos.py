"""Photo identification for the quality benchmark: leave-one-out top-1 and stranger false accepts.

Every labelled single-face photo (``quality_data.labelled_photos``) is embedded once with
``face_for_enrolment``; every gallery is built from those cached vectors, so no gallery
re-detects anything. Leave-one-out: for each photo of a person with at least two photos,
the gallery holds every other photo (the person's others and everyone else's); top-1 is
correct when the probe is named that person. Strangers: for each person, the gallery holds
everyone else's photos and each of the person's photos is a probe; naming it anyone is a
false accept.

vidiplug identifies a probe with ``analyze_media(photo, engine, gallery)`` and takes the
person reported for the largest face (its track's box). The baseline detects the probe's
faces with HOG upsample 1, embeds the largest once, and names it after the nearest gallery
vector within face_recognition's tolerance (quality_baseline.DISTANCE; same cached gallery
vectors as vidiplug's).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from quality_baseline import DISTANCE, Detector, largest_face_vector, nearest_name
from quality_data import Photo
from quality_metrics import PhotoScore


@dataclass(frozen=True, eq=False)
class Probe:
    """A labelled photo, its enrolment vector (None when rejected) and the baseline's probe vector."""

    photo: Photo
    path: Path
    enrolled: NDArray[np.float32] | None
    baseline: NDArray[np.float32] | None


def embed_photos(data: Path, photos: Sequence[Photo], engine: Any, with_baseline: bool) -> list[Probe]:
    """Each photo embedded once: ``face_for_enrolment`` (gallery vectors) and, if asked, the baseline's probe vector."""
    from vidiplug.errors import ImageRejected, MediaError
    from vidiplug.media.images import load_image
    from vidiplug.pipeline.enroll import face_for_enrolment

    detector = Detector() if with_baseline else None
    probes = []
    for photo in photos:
        path = data / photo.file
        image = load_image(path)
        try:
            enrolled: NDArray[np.float32] | None = face_for_enrolment(image, engine).embedding
        except (ImageRejected, MediaError) as exc:
            print(f"#   not enrolled: {photo.file}: {exc}", file=sys.stderr)
            enrolled = None
        baseline = largest_face_vector(image, engine, detector) if detector is not None else None
        probes.append(Probe(photo, path, enrolled, baseline))
    return probes


Identify = Callable[[Probe, Sequence[Probe]], str | None]


def score(probes: Sequence[Probe], identify: Identify) -> PhotoScore:
    """Leave-one-out top-1 and stranger false accepts; ``identify(probe, gallery)`` returns a name or None."""
    count = Counter(p.photo.person for p in probes)
    correct = top1 = false_accepts = strangers = 0
    for probe in probes:
        person = probe.photo.person
        if count[person] >= 2:
            top1 += 1
            correct += identify(probe, [p for p in probes if p is not probe]) == person
        strangers += 1
        false_accepts += identify(probe, [p for p in probes if p.photo.person != person]) is not None
    return PhotoScore(correct, top1, false_accepts, strangers)


def vidiplug_identify(engine: Any) -> Identify:
    """``identify`` for vidiplug: analyse the photo against a gallery of the enrolled vectors."""
    from vidiplug.pipeline.analyze import analyze_media
    from vidiplug.pipeline.params import AnalyzeParams

    def identify(probe: Probe, gallery: Sequence[Probe]) -> str | None:
        result = analyze_media(probe.path, engine, build_gallery(engine, gallery), AnalyzeParams())
        return largest_face_name(result)

    return identify


def baseline_identify(distance: float = DISTANCE) -> Identify:
    """``identify`` for the baseline: the nearest enrolled vector to its own probe vector, if within ``distance``."""

    def identify(probe: Probe, gallery: Sequence[Probe]) -> str | None:
        members = [(p.photo.person, p.enrolled) for p in gallery if p.enrolled is not None]
        if probe.baseline is None or not members:
            return None
        vectors = np.stack([vector for _, vector in members])
        return nearest_name(probe.baseline, vectors, [name for name, _ in members], distance)

    return identify


def build_gallery(engine: Any, members: Sequence[Probe]) -> Any:
    """A vidiplug Gallery of the members' enrolment vectors, one identity per person."""
    from vidiplug.identity.gallery import Gallery, Identity, IdentityKind, id_for_name

    gallery = Gallery(engine.info)
    for member in members:
        if member.enrolled is not None:
            name = member.photo.person
            gallery.add(Identity(id_for_name(name), name, IdentityKind.KNOWN), member.enrolled[None, :])
    return gallery


def largest_face_name(result: Any) -> str | None:
    """The name vidiplug reported for the largest face of an analysed photo (None: unknown or no face)."""
    people = {p.fingerprint: p for p in result.people}
    faces = [(box.area, t.fingerprint) for t in result.tracks for box in t.boxes]
    if not faces and result.people:  # no track records: fall back to the appearances' boxes
        faces = [(a.box.area, p.fingerprint) for p in result.people for a in p.appearances]
    if not faces:
        return None
    fingerprint = max(faces, key=lambda face: face[0])[1]
    person = people.get(fingerprint) if fingerprint is not None else None
    return person.name if person is not None and person.known else None
