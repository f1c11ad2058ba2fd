"""Face alignment geometry: similarity fit, the ArcFace 112x112 crop, and context padding for crops.

numpy plus cv2 (for the warp only, imported here and nowhere else in vidiplug); nothing above engine/.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from vidiplug.errors import EngineError

# Where ArcFace recognisers expect the five landmarks in a 112x112 crop (insightface's
# arcface_dst): image-left eye, image-right eye, nose tip, left and right mouth corners.
ARCFACE_TEMPLATE: NDArray[np.float32] = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)
ARCFACE_SIZE_PX = 112


def estimate_similarity(src: NDArray[np.floating], dst: NDArray[np.floating]) -> NDArray[np.float32]:
    """The (2, 3) similarity transform (rotation, uniform scale, translation) taking ``src`` to ``dst``.

    Least squares over corresponding (N, 2) point sets, N >= 2 (Umeyama 1991, the method
    skimage's SimilarityTransform.estimate uses); reflections are excluded. Apply as
    ``dst ≈ src @ M[:, :2].T + M[:, 2]``. Raises EngineError for mismatched shapes or when
    all ``src`` points coincide.
    """
    s = np.asarray(src, dtype=np.float64)
    d = np.asarray(dst, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] != 2 or s.shape != d.shape or s.shape[0] < 2:
        raise EngineError(f"similarity fit needs two matching (N>=2, 2) point sets, got {s.shape} and {d.shape}")
    if not (np.isfinite(s).all() and np.isfinite(d).all()):
        raise EngineError("similarity fit: landmarks are not finite")
    mean_s, mean_d = s.mean(axis=0), d.mean(axis=0)
    cs, cd = s - mean_s, d - mean_d
    var_s = float((cs**2).sum()) / len(s)
    if var_s < 1e-12:
        raise EngineError("similarity fit: all source landmarks are at one point")
    cov = cd.T @ cs / len(s)
    u, sing, vt = np.linalg.svd(cov)
    signs = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        signs[-1] = -1.0  # the best orthogonal fit would mirror; keep a proper rotation
    rotation = u @ np.diag(signs) @ vt
    scale = float((sing * signs).sum()) / var_s
    shift = mean_d - scale * rotation @ mean_s
    matrix: NDArray[np.float32] = np.hstack([scale * rotation, shift[:, None]]).astype(np.float32)
    return matrix


def norm_crop(image: NDArray[np.uint8], landmarks: NDArray[np.floating],
              size: int = ARCFACE_SIZE_PX) -> NDArray[np.uint8]:
    """The aligned (size, size, 3) face crop ArcFace recognisers take.

    ``landmarks`` are the face's (5, 2) points in ``image`` pixels (Detection order);
    they are mapped onto ARCFACE_TEMPLATE (scaled by size / 112; ``size`` must be a
    multiple of 112) with a similarity transform. Pixels from outside ``image`` are black,
    as in insightface's own alignment. Channel order is kept (RGB in, RGB out).
    """
    import cv2

    if size <= 0 or size % ARCFACE_SIZE_PX:
        raise EngineError(f"aligned crop size {size} is not a multiple of {ARCFACE_SIZE_PX}")
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape != (5, 2):
        raise EngineError(f"alignment needs (5, 2) landmarks, got {points.shape}")
    matrix = estimate_similarity(points, ARCFACE_TEMPLATE * (size / ARCFACE_SIZE_PX))
    warped = cv2.warpAffine(np.ascontiguousarray(image), matrix, (size, size), flags=cv2.INTER_LINEAR,
                            borderValue=(0, 0, 0))
    crop: NDArray[np.uint8] = np.asarray(warped, dtype=np.uint8)
    return crop


def pad_for_detection(
    image: NDArray[np.uint8], ratio: float, mode: Literal["constant", "reflect"] = "constant"
) -> tuple[NDArray[np.uint8], tuple[int, int]]:
    """``image`` with a border, and the (offset_x, offset_y) of the original inside it, in pixels.

    Each side gets ``ratio`` times the image's size on that axis (0.5 doubles width and
    height), so a face that fills a tight crop becomes a face with context, of a size
    detectors' anchors cover. ``mode`` "constant" fills with the image's mean colour (no
    edges, no ghost faces); "reflect" mirrors the image, which keeps texture but can
    mirror half-faces into the border. Map a box or landmarks found in the padded image
    back by subtracting the offset.
    """
    if image.ndim != 3 or ratio < 0:
        raise EngineError(f"padding needs an (H, W, C) image and a ratio >= 0, got {image.shape} and {ratio}")
    height, width = image.shape[:2]
    pad_x, pad_y = int(round(width * ratio)), int(round(height * ratio))
    widths = ((pad_y, pad_y), (pad_x, pad_x), (0, 0))
    if mode == "reflect" and min(height, width) > 1:
        padded = np.pad(image, widths, mode="reflect")
    elif mode in ("constant", "reflect"):
        fill = image.reshape(-1, image.shape[2]).mean(axis=0) if image.size else np.zeros(image.shape[2])
        padded = np.empty((height + 2 * pad_y, width + 2 * pad_x, image.shape[2]), dtype=image.dtype)
        padded[...] = np.round(fill).astype(image.dtype)
        padded[pad_y : pad_y + height, pad_x : pad_x + width] = image
    else:
        raise EngineError(f"unknown padding mode {mode!r} (use constant or reflect)")
    result: NDArray[np.uint8] = np.ascontiguousarray(padded, dtype=np.uint8)
    return result, (pad_x, pad_y)
