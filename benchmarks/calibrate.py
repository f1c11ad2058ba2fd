"""Fit the confidence curve of an engine's decisions on the shared labelled photos.

    python benchmarks/calibrate.py [--engine dlib]

Every single-face labelled photo of a person (33 people of several ethnicities; identity
aliases merged, see quality_data) is a probe twice: once against a gallery of every
other photo (its own person enrolled: a genuine trial) and once against a gallery of
everyone else (a stranger trial). Each trial's best identity gets vidiplug's normalised
score (identity/decide.py); a logistic regression of "the best identity is the right
person" on that score gives the curve's midpoint (``z_mid``, confidence 0.5) and scale
(``z_scale``). Because a confidence is only reported with a name, the script also prints a
reliability table: the names the current rules give, per reported-confidence band, and how
many of them are right. The script prints the fit, the similarity percentiles quoted in decide.py,
and the top-1 / false-accept rates of the engine's current rules, so a change of rules
can be checked against the same photos.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from quality_data import labelled_photos, read_labels
from quality_photos import embed_photos
from shared_clips import DATA


def trials(vectors: NDArray[np.float32], people: list[str]) -> list[tuple[NDArray[np.float32], int | None]]:
    """(similarity per gallery identity, index of the probe's own identity or None) for every trial."""
    names = sorted(set(people))
    owner = np.array([names.index(p) for p in people])
    sims = vectors @ vectors.T
    result = []
    for probe in range(len(people)):
        for genuine in (True, False):
            mask = owner != owner[probe] if not genuine else np.arange(len(people)) != probe
            if genuine and not (owner[mask] == owner[probe]).any():
                continue
            present = np.unique(owner[mask])
            scores = np.full(present.size, -1.0, np.float32)
            for k, ident in enumerate(present):
                scores[k] = sims[probe, mask & (owner == ident)].max()
            own = int(np.where(present == owner[probe])[0][0]) if genuine else None
            result.append((scores, own))
    return result


def fit_logistic(x: NDArray[np.float64], y: NDArray[np.float64], steps: int = 50) -> tuple[float, float]:
    """Newton's method for P(y=1) = 1 / (1 + exp(-(a x + b))); returns (midpoint -b/a, scale 1/a)."""
    design = np.stack([x, np.ones_like(x)], axis=1)
    weights = np.zeros(2)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ weights, -40, 40)))
        gradient = design.T @ (y - p)
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-6 * np.eye(2)
        weights += np.linalg.solve(hessian, gradient)
    slope, intercept = weights
    return float(-intercept / slope), float(1.0 / slope)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="dlib")
    args = parser.parse_args()
    from vidiplug.engine import load_engine
    from vidiplug.engine.config import EngineSettings
    from vidiplug.identity.decide import decide

    engine: Any = load_engine(EngineSettings(name=args.engine))
    probes = embed_photos(DATA, labelled_photos(read_labels(DATA)), engine, with_baseline=False)
    unique: dict[bytes, tuple[str, NDArray[np.float32]]] = {}
    for probe in probes:
        if probe.enrolled is not None:  # one copy of a photo that is stored twice
            unique.setdefault(np.round(probe.enrolled, 5).tobytes(), (probe.photo.person, probe.enrolled))
    people = [person for person, _ in unique.values()]
    vectors = np.stack([vector for _, vector in unique.values()]).astype(np.float32)
    rules = engine.info.rules
    every = trials(vectors, people)
    pairs = vectors @ vectors.T
    same = np.array([[a == b for b in people] for a in people])
    upper = np.triu(np.ones_like(same), 1).astype(bool)
    print(f"{len(people)} photos of {len(set(people))} people, {len(every)} trials")
    print("same-person cosine percentiles 1/50: "
          + " ".join(f"{v:.3f}" for v in np.percentile(pairs[same & upper], [1, 50])))
    print("different-people cosine percentiles 50/99/max: "
          + " ".join(f"{v:.3f}" for v in np.percentile(pairs[~same & upper], [50, 99, 100])))
    decisions = [(decide(scores, rules, 0.0), own) for scores, own in every]
    z = np.array([d.normalised for d, _ in decisions])
    right = np.array([float(own is not None and d.best == own) for d, own in decisions])
    mid, scale = fit_logistic(z, right)
    print(f"fitted curve, every trial: z_mid {mid:.2f}, z_scale {scale:.2f} "
          f"(rules now: {rules.z_mid}, {rules.z_scale})")
    # A confidence is reported only with a name, so what matters is how often a name given
    # at a confidence is right: observed against reported, per band (a reliability table).
    given = ((decide(scores, rules, 0.5), own) for scores, own in every)
    named = [(d, own) for d, own in given if d.index is not None]
    print(f"names given at the current rules: {len(named)}; right per reported-confidence band:")
    edges = (0.5, 0.7, 0.9, 1.01)
    for low, high in pairwise(edges):
        band = [(d.confidence, own is not None and d.index == own) for d, own in named if low <= d.confidence < high]
        if band:
            print(f"  confidence {low:.1f}-{min(high, 1.0):.1f}: {len(band):3d} names, "
                  f"right {np.mean([r for _, r in band]):.2f}, "
                  f"mean confidence {np.mean([c for c, _ in band]):.2f}")
    fitted = dataclasses.replace(rules, z_mid=mid, z_scale=scale)
    for label, used in (("current rules", rules), ("fitted curve", fitted)):
        named = [(decide(scores, used, 0.5), own) for scores, own in every]
        genuine = [(d, own) for d, own in named if own is not None]
        strangers = [d for d, own in named if own is None]
        top1 = np.mean([d.index == own for d, own in genuine])
        false_accepts = np.mean([d.index is not None for d in strangers])
        print(f"{label}: top-1 {top1:.3f} on {len(genuine)} enrolled probes, "
              f"false accepts {false_accepts:.3f} on {len(strangers)} strangers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
