"""Face quality: one score in [0, 1] from size, detection score and sharpness.

Pure numpy; imports only engine types.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.base import Detection

FULL_SIZE_PX = 112.0  # a face this tall or taller gets full marks for size
SHARP_VARIANCE = 150.0  # Laplacian variance of a crisp 112 px face crop


def sharpness(image: NDArray[np.uint8], det: Detection) -> float:
    """Sharpness of the face region in [0, 1]: variance of a 4-neighbour Laplacian, normalised.

    The crop is subsampled to at most ~112 px tall first so big faces are not favoured.
    """
    height, width = image.shape[:2]
    box = det.box.clipped(width, height)
    crop = image[int(box.y1) : int(box.y2), int(box.x1) : int(box.x2)]
    if crop.shape[0] < 3 or crop.shape[1] < 3:
        return 0.0
    step = max(1, int(crop.shape[0] // FULL_SIZE_PX))
    gray = crop[::step, ::step].astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    lap = 4 * gray[1:-1, 1:-1] - gray[:-2, 1:-1] - gray[2:, 1:-1] - gray[1:-1, :-2] - gray[1:-1, 2:]
    return float(min(1.0, lap.var() / SHARP_VARIANCE))


def face_quality(image: NDArray[np.uint8], det: Detection) -> float:
    """Quality in [0, 1]: the geometric mean of size, detection score and sharpness terms.

    Size is the face height over 112 px (capped at 1); a face that is small, blurred or
    barely detected scores low on that term and so overall. Used to pick thumbnails,
    representative embeddings, and to reject poor training images.
    """
    size = min(1.0, det.box.height / FULL_SIZE_PX)
    terms = np.array([max(size, 1e-3), max(det.score, 1e-3), max(sharpness(image, det), 1e-3)])
    return float(np.exp(np.log(terms).mean()))
