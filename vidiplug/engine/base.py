"""Engine seam: what a face engine is (detect + embed) and the values it returns.

Knows numpy only; nothing about media containers, stores or VidiCore.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.calibration import DecisionRules
from vidiplug.engine.digest import files_sha256


@dataclass(frozen=True)
class Box:
    """Axis-aligned box in float pixels of the original frame: (x1, y1) top-left, (x2, y2) bottom-right."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return max(0.0, self.x2 - self.x1)

    @property
    def height(self) -> float:
        return max(0.0, self.y2 - self.y1)

    @property
    def area(self) -> float:
        return self.width * self.height

    def iou(self, other: Box) -> float:
        """Intersection over union with ``other``, in [0, 1]."""
        ix = max(0.0, min(self.x2, other.x2) - max(self.x1, other.x1))
        iy = max(0.0, min(self.y2, other.y2) - max(self.y1, other.y1))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def clipped(self, width: int, height: int) -> Box:
        """This box clipped to an image of ``width`` x ``height`` pixels."""
        return Box(
            min(max(self.x1, 0.0), float(width)),
            min(max(self.y1, 0.0), float(height)),
            min(max(self.x2, 0.0), float(width)),
            min(max(self.y2, 0.0), float(height)),
        )

    def as_list(self) -> list[float]:
        return [round(self.x1, 1), round(self.y1, 1), round(self.x2, 1), round(self.y2, 1)]


@dataclass(frozen=True)
class EngineInfo:
    """Identity of the model pair that made a vector, and its calibration.

    Vectors of different infos are never compared.

    ``name`` is the engine ("dlib", "insightface"), ``model`` the detector + recogniser
    file names, ``version`` a content hash of the model files, ``dim`` the embedding size.
    ``rules`` is the engine's calibration of that vector space (how similar is "the same
    person"): required, so no engine exists without one. It is knowledge about the space,
    not part of its identity, so two infos compare equal without it.
    """

    name: str
    model: str
    version: str
    dim: int
    rules: DecisionRules = field(compare=False, repr=False)

    @property
    def key(self) -> str:
        """One string that identifies the vector space: ``name/model@version``."""
        return f"{self.name}/{self.model}@{self.version}"


@dataclass(frozen=True, eq=False)
class Detection:
    """One face found in an image.

    ``landmarks`` is a (5, 2) float32 array of (x, y) pixels in the order left eye,
    right eye, nose tip, left mouth corner, right mouth corner (the subject's left is
    the image's right, as in insightface); ``score`` is the detector's confidence in [0, 1].
    """

    box: Box
    landmarks: NDArray[np.float32]
    score: float


class Engine(Protocol):
    """A detector/recogniser pair, versioned together; ``info.rules`` is its calibration."""

    info: EngineInfo
    providers: tuple[str, ...]

    def detect(self, image: NDArray[np.uint8]) -> list[Detection]:
        """Faces in an RGB uint8 image of shape (H, W, 3), boxes in that image's pixels."""
        ...

    def embed(self, image: NDArray[np.uint8], found: Sequence[Detection]) -> NDArray[np.float32]:
        """One L2-normalised row per detection, shape (len(found), info.dim)."""
        ...


@runtime_checkable
class LumaDetector(Protocol):
    """Optional capability of an engine that detects on a grey picture (dlib's HOG).

    A decoder makes that picture far more cheaply than converting the RGB frame, so the
    pipeline asks for it (``isinstance(engine, LumaDetector)``) and hands it over.
    """

    def luma_size(self, width: int, height: int) -> tuple[int, int] | None:
        """(width, height) of the grey picture detect() works on for a ``width`` x ``height`` image.

        None when it works on colour.
        """
        ...

    def detect(self, image: NDArray[np.uint8], luma: NDArray[np.uint8] | None = None) -> list[Detection]:
        """Faces in ``image`` as ``Engine.detect``; ``luma``, the same picture as grey at
        ``luma_size(W, H)``, is used instead of converting ``image`` (any other shape is ignored)."""
        ...


def l2_normalise(vectors: NDArray[np.floating]) -> NDArray[np.float32]:
    """Rows of ``vectors`` scaled to unit length (zero rows stay zero), as float32."""
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: NDArray[np.float32] = (arr / norms).astype(np.float32)
    return result


def files_digest(paths: Sequence[Path]) -> str:
    """First 12 hex digits of sha256 over the files' bytes in order: a model version stamp."""
    return files_sha256(*paths)[:12]
