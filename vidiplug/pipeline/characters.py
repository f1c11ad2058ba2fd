"""Animated characters: train a series from folders; the gallery a series is analysed against.

One series is one vector space of the CharacterEngine (its ``info`` names the series), so the
identity store keeps one model per series: the named characters' vectors in that space, and
the unknown characters analyses stored. Analysis itself is ``analyze_media`` with the series'
engine, the same pipeline as faces (tracking, open-set naming, grouping of unknowns), in the
CLI and in the service alike; ``character_gallery`` is what it is matched against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.character import CharacterEngine
from vidiplug.errors import MediaError
from vidiplug.identity.gallery import Gallery, IdentityKind
from vidiplug.identity.store import IdentityStore
from vidiplug.media import load_image
from vidiplug.pipeline.train import TrainingImage, TrainingOutcome, train_images

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
MIN_TRAIN_SHARE = 0.1
"""A training image's largest detection is described (as analysis describes detections) when it covers
at least this share of the image; an image with none as large is taken as a face crop as a whole."""


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


def character_gallery(store: IdentityStore, engine: CharacterEngine) -> Gallery:
    """What an analysis of the series is matched against: each trained character as the unit mean
    of its vectors (a few examples vote together; benchmarks/characters.py measures this), each
    stored unknown character with its own representative vectors, as faces' unknowns are."""
    known = series_gallery(store, engine)
    everything = store.load_gallery(engine.info)
    for index, identity in enumerate(everything.identities):
        if identity.kind is IdentityKind.UNKNOWN:
            known.add(identity, everything.vectors[everything.owners == index])
    return known
