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
# (cosine 0.82 on unit vectors) names strangers. Measured on the 60 single-face labelled
# photos of the shared data set (15 people): same-person pairs 1st percentile 0.936,
# median 0.977; different-person pairs median 0.81, 90th percentile 0.86; Lin-Manuel
# Miranda in a broadcast clip scores 0.89-0.98 against his photo, Alex Lacamoire 0.88.
# Midpoint 0.89 (distance 0.47). ArcFace (buffalo_l) pairs are usually called at ~0.35.
CURVES: dict[str, tuple[float, float]] = {
    "dlib": (0.89, 0.02),
    "insightface": (0.35, 0.06),
}
DEFAULT_CURVE = (0.5, 0.08)


def to_confidence(similarity: NDArray[np.floating], engine_name: str) -> NDArray[np.float32]:
    """Map cosine similarities to confidences in [0, 1] with the engine's curve."""
    mid, spread = CURVES.get(engine_name, DEFAULT_CURVE)
    z = (np.asarray(similarity, dtype=np.float32) - mid) / spread
    result: NDArray[np.float32] = (1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))).astype(np.float32)
    return result
