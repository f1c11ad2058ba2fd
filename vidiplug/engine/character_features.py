"""Hand-made features of a cartoon face crop that separate the characters of one series.

Colour (HSV histograms of the hair band, the eye band and the whole crop) says most about a
character; texture (HOG of the grey crop) and local binary patterns add the drawing's shape.
Each block is L2-normalised and weighted, then the concatenation is L2-normalised again, so
cosine similarity compares two crops. Needs OpenCV and numpy only: nothing is downloaded.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

FEATURE_VERSION = "chf1"
"""Changes whenever the features change: part of the character engine's version stamp."""

CROP_PX = 64
"""Side of the square the crop is resized to before describing it."""

HUE_BINS, SAT_BINS, VAL_BINS = 18, 4, 4
COLOUR_WEIGHT, HOG_WEIGHT, LBP_WEIGHT = 1.0, 0.6, 0.4

_HOG = cv2.HOGDescriptor((CROP_PX, CROP_PX), (16, 16), (8, 8), (8, 8), 9)


def _unit(vector: NDArray[np.float32]) -> NDArray[np.float32]:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _hsv_histogram(hsv: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Joint hue x saturation histogram plus a value histogram, square-rooted (Hellinger) and unit length."""
    hist = cv2.calcHist([hsv], [0, 1], None, [HUE_BINS, SAT_BINS], [0, 180, 0, 256]).ravel()
    value = cv2.calcHist([hsv], [2], None, [VAL_BINS], [0, 256]).ravel()
    joined = np.concatenate([hist, value]).astype(np.float32)
    return _unit(np.sqrt(joined / max(1.0, float(joined.sum()))))


def _lbp_histogram(grey: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Histogram of 8-neighbour local binary patterns over 2 x 2 cells of the crop."""
    centre = np.asarray(grey[1:-1, 1:-1], dtype=np.int16).reshape(grey.shape[0] - 2, grey.shape[1] - 2)
    codes = np.zeros(centre.shape, dtype=np.uint8)
    offsets = ((0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0))
    for bit, (dy, dx) in enumerate(offsets):
        neighbour = grey[dy:dy + centre.shape[0], dx:dx + centre.shape[1]].astype(np.int16)
        codes |= ((neighbour >= centre).astype(np.uint8) << bit)
    half_y, half_x = int(codes.shape[0]) // 2, int(codes.shape[1]) // 2
    cells = [codes[:half_y, :half_x], codes[:half_y, half_x:], codes[half_y:, :half_x], codes[half_y:, half_x:]]
    hists = [np.bincount(cell.ravel(), minlength=256).astype(np.float32) for cell in cells]
    return _unit(np.sqrt(np.concatenate(hists)))


def character_features(crop_rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The unit-length feature vector of one RGB face crop (any size, at least 8 x 8 pixels)."""
    square = cv2.resize(crop_rgb, (CROP_PX, CROP_PX), interpolation=cv2.INTER_AREA)
    hsv = np.asarray(cv2.cvtColor(square, cv2.COLOR_RGB2HSV), dtype=np.uint8)
    band = CROP_PX // 3
    colour = np.concatenate([
        _hsv_histogram(hsv[:band]),  # hair
        _hsv_histogram(hsv[band:2 * band]),  # eyes
        _hsv_histogram(hsv[2 * band:]),  # mouth, chin, clothes
        _hsv_histogram(hsv),
    ])
    grey = np.asarray(cv2.cvtColor(square, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    hog = np.asarray(_HOG.compute(grey), dtype=np.float32).ravel()
    blocks = [COLOUR_WEIGHT * _unit(colour), HOG_WEIGHT * _unit(hog), LBP_WEIGHT * _lbp_histogram(grey)]
    return _unit(np.concatenate(blocks).astype(np.float32))


def feature_dim() -> int:
    """Length of the vectors ``character_features`` returns."""
    return int(character_features(np.zeros((CROP_PX, CROP_PX, 3), dtype=np.uint8)).shape[0])
