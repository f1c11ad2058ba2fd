"""In-video cross-check of names: the tracks of one video vouch for, or against, each other.

Reference photos differ from broadcast pictures (age, light, make-up), but two tracks of
one person in one video look alike. So once every track has been decided against the
gallery on its own:

- a named track is demoted to unknown when, inside the video, it does not look clearly
  more like the other tracks given that name than like tracks given another name (a best
  versus second margin, weakest names first);
- an unnamed track whose best gallery identity is X is named X when it looks like X's
  named tracks in this video at least as much as the engine's grouping level, clearly
  more than like any other named track, and it is never on screen with an X track.

Pure numpy on tracks and indices.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.calibration import DecisionRules
from vidiplug.pipeline.tracking import Track


def cross_check(
    tracks: Sequence[Track],
    names: list[int | None],
    confidences: Sequence[float],
    best: Sequence[int | None],
    conflicts: Sequence[tuple[int, int]],
    rules: DecisionRules,
) -> list[int | None]:
    """Names per track (identity index or None) after the in-video cross-check.

    ``names`` are the tracks' own decisions, ``confidences`` theirs, ``best`` each track's
    most similar identity whether accepted or not, ``conflicts`` pairs of track positions
    seen in one frame.
    """
    result = list(names)
    if len(tracks) < 2:
        return result
    means = np.stack([t.mean_embedding() for t in tracks])
    sims: NDArray[np.float32] = means @ means.T
    together = np.zeros(sims.shape, bool)
    for a, b in conflicts:
        together[a, b] = together[b, a] = True
    for i in sorted((i for i, n in enumerate(result) if n is not None), key=lambda i: confidences[i]):
        own, rival = _closest(sims[i], result, i, result[i])
        if own is not None and rival is not None and own - rival < rules.margin:
            result[i] = None
    for i, candidate in enumerate(best):
        if result[i] is not None or candidate is None:
            continue
        if any(result[j] == candidate and together[i, j] for j in range(len(tracks))):
            continue
        own, rival = _closest(sims[i], result, i, candidate)
        if own is not None and own >= rules.group and own - (rival if rival is not None else -1.0) >= rules.margin:
            result[i] = candidate
    return result


def _closest(
    row: NDArray[np.float32], names: list[int | None], self_index: int, identity: int | None
) -> tuple[float | None, float | None]:
    """The highest similarity to another track named ``identity``, and to one named otherwise."""
    own = [float(row[j]) for j, n in enumerate(names) if j != self_index and n is not None and n == identity]
    rival = [float(row[j]) for j, n in enumerate(names) if j != self_index and n is not None and n != identity]
    return (max(own) if own else None), (max(rival) if rival else None)
