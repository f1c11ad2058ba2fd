"""Animated characters: train a series from folders, find, recognise and group characters in media.

One series is one vector space of the CharacterEngine (its ``info`` names the series), so the
identity store keeps one model per series: the named characters' vectors in that space. A
sighting is named when its best character beats the runner-up by the engine's margin (and
clears its floor); the others are grouped into ``Unknown #N``, numbered in order of first
appearance, joining a group only at the engine's ``group`` cosine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.base import Box
from vidiplug.engine.calibration import DecisionRules
from vidiplug.engine.character import CharacterEngine
from vidiplug.errors import MediaError
from vidiplug.identity.gallery import Gallery
from vidiplug.identity.store import IdentityStore
from vidiplug.media import iter_media_frames, load_image, probe_media
from vidiplug.pipeline.train import TrainingImage, TrainingOutcome, train_images

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
MIN_TRAIN_SHARE = 0.1
"""A training image's largest detection is described (as analysis describes detections) when it covers
at least this share of the image; an image with none as large is taken as a face crop as a whole."""


@dataclass(frozen=True)
class Sighting:
    """One character face at ``time_s``: its box, vector and the frame crop it came from."""

    time_s: float
    box: Box
    vector: NDArray[np.float32]
    crop: NDArray[np.uint8]


@dataclass
class CharacterGroup:
    """A recognised character or an unknown group, with every sighting of it."""

    number: int
    name: str
    known: bool
    sightings: list[Sighting] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)

    def centroid(self) -> NDArray[np.float32]:
        """Unit mean of the sightings' vectors."""
        mean = np.mean([s.vector for s in self.sightings], axis=0).astype(np.float32)
        norm = float(np.linalg.norm(mean))
        unit: NDArray[np.float32] = mean / norm if norm > 0 else mean
        return unit

    @property
    def thumbnail(self) -> NDArray[np.uint8]:
        """The crop of the largest sighting."""
        return max(self.sightings, key=lambda s: s.box.area).crop


@dataclass(frozen=True)
class CharacterAnalysis:
    """What ``analyze_characters`` found: groups in order of first appearance."""

    series: str
    duration_s: float
    interval_s: float
    is_image: bool
    groups: list[CharacterGroup]


@dataclass(frozen=True)
class TrainOutcome:
    """One training image: whose, and whether it gave a vector."""

    character: str
    source: Path
    accepted: bool
    reason: str = ""


def crop_for_training(engine: CharacterEngine, image: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The vector of a training image: its largest detection's, or the whole image's when it has none."""
    found = engine.detect(image)
    area = float(image.shape[0] * image.shape[1])
    if found:
        largest = max(found, key=lambda d: d.box.area)
        if largest.box.area >= MIN_TRAIN_SHARE * area:
            return engine.embed(image, [largest])
    return engine.embed_crop(image)


def train_series(engine: CharacterEngine, store: IdentityStore, folder: Path) -> list[TrainOutcome]:
    """Add one character per sub-folder of ``folder`` (its name) to the series' model in ``store``.

    Images already trained (same source path) are skipped, so training twice adds nothing.
    """
    if not folder.is_dir():
        raise MediaError(str(folder), "not a folder of character sub-folders")
    outcomes: list[TrainOutcome] = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        images = sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        vectors, sources = [], []
        for path in images:
            source = f"character:{engine.series}:{path.resolve()}"
            if store.has_source(engine.info, source):
                outcomes.append(TrainOutcome(sub.name, path, False, "already trained"))
                continue
            try:
                vectors.append(crop_for_training(engine, load_image(path)))
            except MediaError as exc:
                outcomes.append(TrainOutcome(sub.name, path, False, str(exc)))
                continue
            sources.append(source)
            outcomes.append(TrainOutcome(sub.name, path, True))
        if vectors:
            identity = store.person(sub.name)
            for vector, source in zip(vectors, sources):
                store.add_vectors(identity.id, engine.info, vector, [1.0], source=source)
    return outcomes


def train_character_images(images: Sequence[TrainingImage], engine: CharacterEngine, store: IdentityStore, *,
                           source_prefix: str) -> list[TrainingOutcome]:
    """``train_images`` for a series (the service's train job with ``cognitive_service_AnimationModel``):
    each image described as ``crop_for_training`` does (its largest character face, or the whole image
    as one crop), quality 1.0. Vectors of ``source_prefix`` whose image is gone are removed, so give
    each series a prefix of its own that no other training's prefix starts."""
    return train_images(images, engine, store, min_quality=0.0, source_prefix=source_prefix,
                        describe=lambda image: (crop_for_training(engine, image)[0], 1.0))


def decide_character(scores: NDArray[np.float32], rules: DecisionRules) -> tuple[int | None, float]:
    """(index of the named character or None, confidence) from one sighting's similarity per character.

    Best versus second: the best must clear ``rules.floor`` and beat the runner-up by ``rules.margin``.
    Confidence is a logistic curve on the margin: 0.5 at ``rules.margin``.
    """
    if scores.size == 0:
        return None, 0.0
    order = np.argsort(scores)[::-1]
    best = float(scores[order[0]])
    second = float(scores[order[1]]) if scores.size > 1 else -1.0
    margin = best - second
    confidence = float(1.0 / (1.0 + np.exp(-(margin - rules.margin) / max(rules.margin, 1e-6))))
    if best < rules.floor or margin < rules.margin:
        return None, confidence
    return int(order[0]), confidence


def group_vectors(vectors: NDArray[np.float32] | None, threshold: float) -> list[int]:
    """A group label per row of ``vectors`` (in order): each joins the group whose unit centroid is most
    similar, when that cosine is at least ``threshold``, else starts a new group (labels 0, 1, ...)."""
    if vectors is None or len(vectors) == 0:
        return []
    sums: list[NDArray[np.float64]] = []
    labels: list[int] = []
    for vector in vectors:
        best, best_sim = -1, -2.0
        for label, total in enumerate(sums):
            sim = float(total @ vector) / max(float(np.linalg.norm(total)), 1e-9)
            if sim > best_sim:
                best, best_sim = label, sim
        if best < 0 or best_sim < threshold:
            sums.append(vector.astype(np.float64))
            labels.append(len(sums) - 1)
        else:
            sums[best] = sums[best] + vector
            labels.append(best)
    return labels


def _sightings(engine: CharacterEngine, media: Path, interval_s: float,
               min_side_px: int) -> tuple[list[Sighting], float, bool]:
    info = probe_media(media)
    sightings: list[Sighting] = []
    for frame in iter_media_frames(media, info, interval_s):
        image = np.ascontiguousarray(frame.image)
        found = [d for d in engine.detect(image) if min(d.box.width, d.box.height) >= min_side_px]
        vectors = engine.embed(image, found)
        height, width = image.shape[:2]
        for detection, vector in zip(found, vectors):
            box = detection.box.clipped(width, height)
            crop = image[int(box.y1):int(round(box.y2)), int(box.x1):int(round(box.x2))].copy()
            sightings.append(Sighting(frame.time_s, box, vector, crop))
    return sightings, float(info.duration_s or 0.0), info.is_image


def analyze_characters(engine: CharacterEngine, gallery: Gallery, media: Path, interval_s: float = 0.5,
                       min_sightings: int | None = None, min_side_px: int = 24) -> CharacterAnalysis:
    """Find the characters of ``media`` (video or still image), named by ``gallery`` or grouped as unknowns.

    ``min_sightings``: an unknown group seen fewer times is dropped (default 2 for video, a stray
    false detection; 1 for a still image).
    """
    sightings, duration, is_image = _sightings(engine, media, interval_s, min_side_px)
    rules = engine.info.rules
    known: dict[int, CharacterGroup] = {}
    order: list[CharacterGroup] = []
    similarity = gallery.similarity(np.stack([s.vector for s in sightings])) if sightings else None
    strangers: list[Sighting] = []
    for row, sighting in enumerate(sightings):
        index, confidence = (decide_character(similarity[row], rules) if similarity is not None and len(gallery)
                             else (None, 0.0))
        if index is None:
            strangers.append(sighting)
            continue
        group = known.get(index)
        if group is None:
            group = known[index] = CharacterGroup(0, gallery.identities[index].name or "?", True)
            order.append(group)
        group.sightings.append(sighting)
        group.scores.append(confidence)
    unknown: dict[int, CharacterGroup] = {}
    labels = group_vectors(np.stack([s.vector for s in strangers]) if strangers else None, rules.group)
    for sighting, label in zip(strangers, labels):
        group = unknown.get(label)
        if group is None:
            group = unknown[label] = CharacterGroup(0, "", False)
            order.append(group)
        group.sightings.append(sighting)
    for group in unknown.values():
        centre = group.centroid()
        group.scores = [float(centre @ s.vector) for s in group.sightings]
    order.sort(key=lambda g: min(s.time_s for s in g.sightings))
    keep = 1 if is_image else 2 if min_sightings is None else min_sightings
    groups = [g for g in order if g.known or len(g.sightings) >= keep]
    for number, group in enumerate((g for g in groups if not g.known), start=1):
        group.name = f"Unknown #{number}"
    for number, group in enumerate(groups, start=1):
        group.number = number
    return CharacterAnalysis(engine.series, duration, interval_s, is_image, groups)


def centroid_gallery(gallery: Gallery) -> Gallery:
    """``gallery`` with each identity's vectors replaced by their unit mean (nearest-centroid matching,
    what benchmarks/characters.py measures: few examples per character vote together)."""
    result = Gallery(gallery.info)
    for index, identity in enumerate(gallery.identities):
        rows = gallery.vectors[gallery.owners == index]
        if rows.shape[0] == 0:
            continue
        mean = rows.mean(axis=0)
        result.add(identity, (mean / max(float(np.linalg.norm(mean)), 1e-9)).astype(np.float32)[None, :])
    return result


def series_gallery(store: IdentityStore, engine: CharacterEngine) -> Gallery:
    """The series' trained characters from ``store``, one centroid each (unknowns left out)."""
    return centroid_gallery(store.load_gallery(engine.info, include_unknown=False))
