"""Who is who: same-frame exclusivity of names.

Pure numpy on plain arrays; no engine or media needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def assign_exclusive(
    scores: NDArray[np.float32],
    conflicts: Sequence[tuple[int, int]],
    threshold: float,
) -> list[int | None]:
    """Give each track at most one identity so that co-visible tracks never share one.

    ``scores`` is (T, K) track-vs-identity confidence; ``conflicts`` lists pairs of
    tracks seen in the same frame. Pairs are taken best first (a global greedy
    assignment) and a pair is refused when the track is taken, the score is below
    ``threshold``, or a conflicting track already holds that identity; a refused track
    falls back to its next best identity. Returns the identity index per track, or None.
    This is what stops two look-alike relatives in one shot both being named after
    whichever of them the gallery knows best.
    """
    scores = np.asarray(scores, np.float32)
    tracks = scores.shape[0]
    result: list[int | None] = [None] * tracks
    if tracks == 0 or scores.shape[1] == 0:
        return result
    neighbours: list[set[int]] = [set() for _ in range(tracks)]
    for a, b in conflicts:
        if a != b:
            neighbours[a].add(b)
            neighbours[b].add(a)
    flat = np.argsort(-scores, axis=None, kind="stable")
    for position in flat:
        track, ident = divmod(int(position), scores.shape[1])
        if scores[track, ident] < threshold:
            break
        if result[track] is not None:
            continue
        if any(result[other] == ident for other in neighbours[track]):
            continue
        result[track] = ident
    return result
