"""Open-set decisions: is this face (or track) one of the gallery's identities, and which?

A raw cosine against one global threshold cannot be trusted: dlib's vectors put different
people of one family or ethnicity at cosine 0.88-0.95. So a name is given only when three
things hold at once:

- the best identity's similarity clears the engine's floor (a loose, absolute sanity bound);
- it beats the second-best identity by a margin (best versus second);
- it stands out from an impostor cohort: the probe's similarities to the other identities
  (the gallery's other people and the store's unknowns) give a mean and spread, shrunk
  towards the engine's prior when the cohort is small, and the best similarity must lie
  ``z`` spreads above that mean (score normalisation, as Z-/AS-norm in speaker
  verification). A probe that resembles everybody (a crowd of similar faces, a family)
  gets a high cohort mean and so a low normalised score.

The reported confidence is a logistic curve on the normalised score; its midpoint is the
operating point chosen on labelled photos of many people (``benchmarks/calibrate.py``
prints the rates there, and the curve a logistic fit would give). Each engine carries its
own rules (``EngineInfo.rules``, ``vidiplug/engine/calibration.py``). Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.calibration import DecisionRules


@dataclass(frozen=True)
class Match:
    """The decision for one probe.

    ``index`` is the accepted identity (None: nobody, an unknown face); ``best`` the
    most similar identity whether accepted or not; ``similarity`` its cosine;
    ``margin`` over the second best; ``normalised`` the cohort-normalised score;
    ``confidence`` in [0, 1] from the calibrated curve.
    """

    index: int | None
    best: int | None
    similarity: float
    margin: float
    normalised: float
    confidence: float


NO_MATCH = Match(None, None, -1.0, 0.0, 0.0, 0.0)


def aggregate(face_scores: NDArray[np.float32]) -> NDArray[np.float32]:
    """A track's similarity per identity from its faces', shape (F, K) → (K,).

    The mean of each identity's better half of faces: a few profile or blurred frames do
    not pull a clear match down, and a single lucky frame does not win alone.
    """
    scores = np.asarray(face_scores, np.float32)
    if scores.ndim != 2 or scores.shape[0] == 0:
        return np.zeros((scores.shape[-1] if scores.ndim == 2 else 0,), np.float32)
    keep = max(1, (scores.shape[0] + 1) // 2)
    top = -np.sort(-scores, axis=0)[:keep]
    result: NDArray[np.float32] = top.mean(axis=0).astype(np.float32)
    return result


def normalised_score(best: float, impostors: NDArray[np.float32], rules: DecisionRules) -> float:
    """``best`` in spreads above the cohort: the ``cohort_size`` highest impostor similarities,
    their mean and spread shrunk towards the engine's prior by ``prior_weight``."""
    cohort = np.sort(np.asarray(impostors, np.float64))[::-1][: rules.cohort_size]
    weight = rules.prior_weight
    count = cohort.size
    mean = (cohort.sum() + weight * rules.cohort_mean) / (count + weight)
    # Pooled spread: the cohort's own variance (about its own mean) with the prior's.
    spread = ((cohort - cohort.mean()) ** 2).sum() if count else 0.0
    var = (spread + weight * rules.cohort_std**2) / (count + weight)
    return float((best - mean) / np.sqrt(max(var, 1e-8)))


def confidence_of(normalised: float, rules: DecisionRules) -> float:
    """The calibrated confidence in [0, 1] of a normalised score."""
    z = np.clip((normalised - rules.z_mid) / rules.z_scale, -40.0, 40.0)
    return float(1.0 / (1.0 + np.exp(-z)))


def decide(scores: NDArray[np.float32], rules: DecisionRules, threshold: float = 0.5,
           usable: NDArray[np.bool_] | None = None) -> Match:
    """Decide one probe from its similarity to each identity, shape (K,).

    ``usable`` masks the identities that may be chosen (all by default; the others still
    count as impostors). The best usable identity is accepted when it clears the floor,
    beats every other identity by the margin, and its confidence reaches ``threshold``.
    """
    scores = np.asarray(scores, np.float32)
    if scores.size == 0:
        return NO_MATCH
    allowed = np.ones(scores.shape, bool) if usable is None else np.asarray(usable, bool)
    if not allowed.any():
        return NO_MATCH
    best = int(np.argmax(np.where(allowed, scores, -np.inf)))
    others = np.delete(scores, best)
    second = float(others.max()) if others.size else -1.0
    similarity = float(scores[best])
    margin = similarity - second
    normalised = normalised_score(similarity, others, rules)
    confidence = confidence_of(normalised, rules)
    accepted = similarity >= rules.floor and margin >= rules.margin and confidence >= threshold
    return Match(best if accepted else None, best, similarity, margin, normalised, round(confidence, 4))
