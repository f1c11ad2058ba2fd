"""Similarity → confidence: one [0, 1] scale that means the same for every engine.

Cosine similarities of different models live on different scales (dlib's same-person
pairs sit around 0.9, ArcFace's around 0.5). Each engine gets a logistic curve whose
midpoint is that model's usual decision point, so a confidence of 0.5 is "as likely
the same person as not" whichever engine made the vectors.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# (cosine at confidence 0.5, spread). dlib: face_recognition's 0.6 Euclidean distance
# (cosine 0.82 on unit vectors) names strangers in broadcast footage; measured on the
# shared data set, same-person pairs sit at cosine 0.89-0.98 and different people reach
# 0.88, so the midpoint is distance 0.5 (cosine 0.875). ArcFace (buffalo_l) pairs are
# usually called at cosine ~0.35.
CURVES: dict[str, tuple[float, float]] = {
    "dlib": (0.875, 0.025),
    "insightface": (0.35, 0.06),
}
DEFAULT_CURVE = (0.5, 0.08)


def to_confidence(similarity: NDArray[np.floating], engine_name: str) -> NDArray[np.float32]:
    """Map cosine similarities to confidences in [0, 1] with the engine's curve."""
    mid, spread = CURVES.get(engine_name, DEFAULT_CURVE)
    z = (np.asarray(similarity, dtype=np.float32) - mid) / spread
    return (1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))).astype(np.float32)
