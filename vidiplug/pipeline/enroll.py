"""Enrolment: photos of a person → quality-checked embeddings in a gallery or the store.

Also builds a gallery from a folder with one sub-folder per person (``gallery/Name/*.jpg``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.align import pad_for_detection
from vidiplug.engine.base import Box, Detection, Engine
from vidiplug.engine.digest import files_sha256
from vidiplug.errors import ImageRejected, MediaError
from vidiplug.identity.gallery import Gallery, Identity, IdentityKind, id_for_name
from vidiplug.identity.quality import face_quality
from vidiplug.identity.store import IdentityStore
from vidiplug.media import load_image
from vidiplug.media.probe import IMAGE_SUFFIXES

log = logging.getLogger("vidiplug.enroll")
PAD_RATIO = 0.5  # border (fraction of the crop's size) given to tight crops that show no face
# A second face makes a training image ambiguous only when it is both sizeable (a quarter of
# the main face's area) and confidently detected: a badge or a poster detected at 0.56 next
# to a clear portrait does not make the name doubtful. Same bar as a new unknown fingerprint.
RIVAL_AREA_RATIO = 0.25
RIVAL_MIN_SCORE = 0.6


@dataclass(frozen=True, eq=False)
class EnrolmentFace:
    """The one usable face of a training image: its embedding (dim,) and quality in [0, 1]."""

    embedding: NDArray[np.float32]
    quality: float


@dataclass(frozen=True)
class EnrolOutcome:
    """What happened to one image: accepted, or rejected with a one-line reason."""

    source: str
    accepted: bool
    reason: str | None = None
    quality: float = 0.0


def face_for_enrolment(
    image: NDArray[np.uint8], engine: Engine, *, min_face_px: int = 24, min_quality: float = 0.0
) -> EnrolmentFace:
    """Embed the single face of a training image; raise ImageRejected saying why not.

    Tight face crops work: the engine pads small images that show no face and retries.
    Rejects images with no face, with several faces (ambiguous: whose name is it? a second
    face counts when it is sizeable and confidently detected), with
    a face under ``min_face_px`` pixels, or with quality under ``min_quality``.
    """
    found = engine.detect(image)
    if not found:
        found = _detect_padded(image, engine)
    if not found:
        raise ImageRejected("no face found")
    det = max(found, key=lambda d: d.box.area)
    rivals = [d for d in found if d is not det and d.box.area > RIVAL_AREA_RATIO * det.box.area
              and d.score >= min(RIVAL_MIN_SCORE, det.score)]
    if rivals:
        raise ImageRejected(f"{len(rivals) + 1} faces found; a training image must show one person")
    if min(det.box.width, det.box.height) < min_face_px:
        raise ImageRejected(f"face is {det.box.height:.0f} px, smaller than {min_face_px} px")
    quality = face_quality(image, det)
    if quality < min_quality:
        raise ImageRejected(f"face quality {quality:.2f} is below {min_quality:.2f} (small or blurred)")
    return EnrolmentFace(engine.embed(image, [det])[0], quality)


def _detect_padded(image: NDArray[np.uint8], engine: Engine) -> list[Detection]:
    """Detect on a copy with a mean-colour border (tight crops leave detectors no context)."""
    height, width = image.shape[:2]
    padded, (pad_x, pad_y) = pad_for_detection(image, PAD_RATIO, mode="constant")
    shift = np.array([pad_x, pad_y], np.float32)
    return [
        Detection(
            Box(det.box.x1 - pad_x, det.box.y1 - pad_y, det.box.x2 - pad_x, det.box.y2 - pad_y).clipped(width, height),
            (det.landmarks - shift).astype(np.float32),
            det.score,
        )
        for det in engine.detect(padded)
    ]


def source_key(path: Path) -> str:
    """A key for an image's content (sha256 prefix), so re-enrolling the same file is a no-op."""
    return "sha256:" + files_sha256(path)[:24]


def enroll_images(
    name: str, paths: list[Path], engine: Engine, store: IdentityStore, *, min_quality: float = 0.0
) -> list[EnrolOutcome]:
    """Add every usable face in ``paths`` to the person ``name`` in ``store``.

    Images already enrolled for this engine (same content) are skipped as accepted.
    Unreadable images and rejected faces are reported per image, never raised.
    """
    person = store.person(name)
    outcomes = []
    for path in paths:
        try:
            key = source_key(path)
            if store.has_source(engine.info, key):
                outcomes.append(EnrolOutcome(str(path), True, "already enrolled"))
                continue
            face = face_for_enrolment(load_image(path), engine, min_quality=min_quality)
        except (MediaError, OSError) as exc:
            outcomes.append(EnrolOutcome(str(path), False, str(exc)))
            continue
        except ImageRejected as exc:
            outcomes.append(EnrolOutcome(str(path), False, str(exc)))
            continue
        store.add_vectors(person.id, engine.info, face.embedding[None, :], [face.quality], source=key)
        outcomes.append(EnrolOutcome(str(path), True, None, face.quality))
    return outcomes


def load_folder_gallery(folder: Path, engine: Engine, into: Gallery | None = None) -> Gallery:
    """A Gallery from ``folder/<Person Name>/*.jpg`` (one sub-folder per person).

    Each person gets a stable id derived from the name. Images without a usable face are
    logged and skipped. Raises MediaError when ``folder`` is not a directory.
    """
    if not folder.is_dir():
        raise MediaError(str(folder), "gallery is not a folder")
    gallery = into if into is not None else Gallery(engine.info)
    for person_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        name = person_dir.name
        rows = []
        for image_path in sorted(person_dir.iterdir()):
            if image_path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                rows.append(face_for_enrolment(load_image(image_path), engine).embedding)
            except (MediaError, ImageRejected) as exc:
                log.warning("gallery image skipped: %s: %s", image_path, exc)
        if rows:
            gallery.add(Identity(id_for_name(name), name, IdentityKind.KNOWN), np.stack(rows))
        else:
            log.warning("gallery person %r has no usable image", name)
    return gallery
