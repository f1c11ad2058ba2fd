"""DecisionRules: an engine's calibrated knowledge of its own vector space.

Each engine module holds its own values and stamps them on its EngineInfo; identity/
applies them. Pure data; imports nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DecisionRules:
    """One engine's knowledge of its own vector space.

    ``floor``: cosine a named match needs at least. ``margin``: cosine by which the best
    identity must beat the second best. ``cohort_mean``/``cohort_std``: prior mean and
    spread of a probe's best impostor similarities, used when the cohort is small, with
    weight ``prior_weight`` (in identities). ``cohort_size``: how many of the best
    impostor identities form the cohort. ``z_mid``/``z_scale``: normalised score at
    confidence 0.5 and the logistic's scale. ``same_shot``: cosine below which two faces in
    one shot are not continued as one track. ``group``: average-link cosine at which two
    unrecognised tracks are one person.
    """

    floor: float
    margin: float
    cohort_mean: float
    cohort_std: float
    prior_weight: float
    cohort_size: int
    z_mid: float
    z_scale: float
    same_shot: float
    group: float
