"""Detectors of cartoon and anime faces, with OpenCV only.

Two paths, because no single cheap detector sees both styles:

- ``AnimeCascade``: nagadomi's lbpcascade_animeface (MIT; its path is given by the operator), an LBP
  cascade trained on anime faces (big eyes, small nose and mouth);
- ``SkinBlobs``: the Western-cartoon path, for flat-coloured characters the cascade misses
  (Dexter's Laboratory, 3D animation): skin-coloured regions of the frame, kept when their size,
  shape and fill look like a head, largest first.

``CartoonDetector`` runs the cascade, then adds the skin blobs that overlap none of its boxes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.base import Box, Detection
from vidiplug.errors import ModelNotFound

CASCADE_FILE = "lbpcascade_animeface.xml"
NO_LANDMARKS = np.zeros((5, 2), dtype=np.float32)
"""Cartoon detections carry no landmarks: this (5, 2) array of zeros fills Detection.landmarks."""


def _detection(x: float, y: float, w: float, h: float, score: float) -> Detection:
    return Detection(Box(float(x), float(y), float(x + w), float(y + h)), NO_LANDMARKS, score)


class AnimeCascade:
    """lbpcascade_animeface run by ``cv2.CascadeClassifier`` on the equalised grey frame."""

    def __init__(self, path: Path | None = None, min_size_px: int = 24, neighbours: int = 3) -> None:
        # The cascade ships in no registry package, and the repository takes nothing from
        # outside: the operator gives its path (nagadomi's lbpcascade_animeface.xml, MIT).
        if path is None:
            raise ModelNotFound(f"no anime face cascade given: pass --cascade PATH to nagadomi's {CASCADE_FILE} "
                                "(MIT; github.com/nagadomi/lbpcascade_animeface)")
        self.path = path
        if not self.path.is_file():
            raise ModelNotFound(f"anime face cascade not found at {self.path}")
        # One classifier per thread: a cv2.CascadeClassifier shared by analysis's detection threads
        # gives different boxes from run to run (it is not thread-safe), so the same clip grouped
        # its characters differently each time and stored characters were missed on re-analysis.
        self._local = threading.local()
        if self._classifier().empty():
            raise ModelNotFound(f"OpenCV could not load the anime face cascade {self.path}")
        self.min_size_px = min_size_px
        self.neighbours = neighbours

    def _classifier(self) -> cv2.CascadeClassifier:
        """This thread's classifier, loaded on its first use."""
        cascade: cv2.CascadeClassifier | None = getattr(self._local, "cascade", None)
        if cascade is None:
            cascade = self._local.cascade = cv2.CascadeClassifier(str(self.path))
        return cascade

    def detect(self, image: NDArray[np.uint8]) -> list[Detection]:
        """Anime faces in an RGB uint8 image, score 0.9 each (the cascade gives no score of its own)."""
        grey = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
        found = self._classifier().detectMultiScale(grey, scaleFactor=1.1, minNeighbors=self.neighbours,
                                                    minSize=(self.min_size_px, self.min_size_px))
        return [_detection(x, y, w, h, 0.9) for x, y, w, h in np.asarray(found).reshape(-1, 4)]


@dataclass(frozen=True)
class SkinBlobs:
    """Western-cartoon heads: skin-coloured connected regions of plausible size, shape and fill.

    Skin is hue at most ``hue_max`` or at least ``hue_wrap_min`` (red sits at both ends of OpenCV's
    0-180 hue circle), saturation
    in [``sat_min``, ``sat_max``] and value at least ``val_min``. A region is kept when both sides
    are at least ``min_side_px`` (and under 90 % of the frame's), its width/height ratio lies in
    ``aspect`` and it fills at least ``min_fill`` of its box; the ``max_count`` largest are returned,
    scored by their fill. Tuned on nothing but colour rules (see benchmarks/characters.py for figures).
    """

    hue_max: int = 25
    hue_wrap_min: int = 170
    sat_min: int = 20
    sat_max: int = 160
    val_min: int = 120
    min_side_px: int = 40
    aspect: tuple[float, float] = (0.7, 2.2)
    min_fill: float = 0.3
    max_count: int = 3

    def mask(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """255 where ``image`` (RGB) has skin colour, after a 3 x 3 opening."""
        hue, sat, val = cv2.split(cv2.cvtColor(image, cv2.COLOR_RGB2HSV))
        skin = ((hue <= self.hue_max) | (hue >= self.hue_wrap_min)) & (sat >= self.sat_min) \
            & (sat <= self.sat_max) & (val >= self.val_min)
        opened = cv2.morphologyEx(skin.astype(np.uint8) * 255, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        return np.asarray(opened, dtype=np.uint8)

    def detect(self, image: NDArray[np.uint8]) -> list[Detection]:
        """Head-like skin regions of an RGB uint8 image, largest first."""
        height, width = image.shape[:2]
        count, _, stats, _ = cv2.connectedComponentsWithStats(self.mask(image))
        found: list[tuple[int, Detection]] = []
        for x, y, w, h, area in stats[1:count]:
            if min(w, h) < self.min_side_px or w > 0.9 * width or h > 0.9 * height:
                continue
            if not self.aspect[0] <= w / h <= self.aspect[1]:
                continue
            fill = float(area) / float(w * h)
            if fill < self.min_fill:
                continue
            found.append((int(w * h), _detection(x, y, w, h, min(0.89, 0.5 + fill / 2))))
        found.sort(key=lambda pair: -pair[0])
        return [detection for _, detection in found[: self.max_count]]


class CartoonDetector:
    """The anime cascade, plus the skin blobs that overlap none of its boxes (IoU below 0.3)."""

    def __init__(self, cascade: AnimeCascade, blobs: SkinBlobs | None = None) -> None:
        self.cascade = cascade
        self.blobs = blobs or SkinBlobs()

    def detect(self, image: NDArray[np.uint8]) -> list[Detection]:
        """Cartoon faces in an RGB uint8 image: cascade hits first, then skin blobs."""
        anime = self.cascade.detect(image)
        extra = [blob for blob in self.blobs.detect(image)
                 if all(blob.box.iou(hit.box) < 0.3 for hit in anime)]
        return anime + extra
