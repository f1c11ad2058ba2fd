"""Training: named face images → identities in the store, incrementally.

An image already embedded (same content, same engine) is not embedded again; a renamed
image moves its vectors to the new name; images no longer in the training set lose
theirs. Rejected images get a one-line reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.base import Engine
from vidiplug.engine.digest import files_sha256
from vidiplug.errors import ImageRejected, MediaError, StoreError
from vidiplug.identity.store import IdentityStore
from vidiplug.media import load_image
from vidiplug.pipeline.enroll import face_for_enrolment


@dataclass(frozen=True)
class TrainingImage:
    """One training image: ``key`` names where it came from (e.g. a VidiCore item id),
    ``name`` is the person shown, ``path`` the local file."""

    key: str
    name: str
    path: Path


@dataclass(frozen=True)
class TrainingOutcome:
    """What training did with one image: ``accepted`` or rejected with ``reason``;
    ``reused`` when its vectors were already in the store."""

    key: str
    name: str
    accepted: bool
    reason: str | None = None
    quality: float = 0.0
    reused: bool = False


def content_source(prefix: str, key: str, path: Path) -> str:
    """The store's source label of an image: ``prefix`` + key + content hash."""
    return f"{prefix}{key}#{files_sha256(path)[:24]}"


def train_images(
    images: Sequence[TrainingImage],
    engine: Engine,
    store: IdentityStore,
    *,
    min_quality: float,
    source_prefix: str = "train:",
    min_face_px: int = 24,
    describe: Callable[[NDArray[np.uint8]], tuple[NDArray[np.float32], float]] | None = None,
) -> list[TrainingOutcome]:
    """Bring the store in line with ``images`` and return one outcome per image.

    Every vector this function manages has a source starting with ``source_prefix``;
    vectors of that prefix whose image is no longer in ``images`` (removed from the
    training collection, or whose content changed) are deleted. ``describe`` turns an image
    into (its vector, its quality) or raises ImageRejected; default: the largest face of
    ``engine`` at ``min_face_px`` and ``min_quality`` (enrolment's rule). The character engine
    passes its own (pipeline/characters.py).
    """
    outcomes: list[TrainingOutcome] = []
    current: set[str] = set()
    for image in images:
        try:
            source = content_source(source_prefix, image.key, image.path)
            person = store.person(image.name)
        except (OSError, StoreError) as exc:
            outcomes.append(TrainingOutcome(image.key, image.name, False, str(exc)))
            continue
        current.add(source)
        owner = store.source_owner(engine.info, source)
        if owner is not None:
            if owner != person.id:
                store.move_source(source, person.id)
            outcomes.append(TrainingOutcome(image.key, image.name, True, None, 0.0, reused=True))
            continue
        try:
            pixels = load_image(image.path)
            if describe is None:
                face = face_for_enrolment(pixels, engine, min_face_px=min_face_px, min_quality=min_quality)
                vector, quality = face.embedding, face.quality
            else:
                vector, quality = describe(pixels)
        except (MediaError, ImageRejected) as exc:
            current.discard(source)
            outcomes.append(TrainingOutcome(image.key, image.name, False, str(exc)))
            continue
        store.add_vectors(person.id, engine.info, vector.reshape(1, -1), [quality], source=source)
        outcomes.append(TrainingOutcome(image.key, image.name, True, None, quality))
    store.remove_sources(source_prefix, current)
    return outcomes
