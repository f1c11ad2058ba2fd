"""Gallery: every reference vector of every identity in one matrix, matched in one product.

Imports engine types only; never loops over identities in Python when matching.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.base import EngineInfo

NAME_NAMESPACE = uuid.UUID("5b0e3c2a-9a0e-4d55-8f4e-7c1f0d6b9a11")


class IdentityKind(str, Enum):
    """A named person or an automatically fingerprinted unknown face."""

    KNOWN = "known"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Identity:
    """One identity a face can be matched to.

    ``id`` is a UUID string (the fingerprint); ``name`` is None for unknowns;
    ``suppressed`` identities are matched (so they are not re-created) but never reported.
    """

    id: str
    name: str | None
    kind: IdentityKind
    suppressed: bool = False


def id_for_name(name: str) -> str:
    """Stable UUID for a person known only by name (folder galleries)."""
    return str(uuid.uuid5(NAME_NAMESPACE, name))


class Gallery:
    """Reference vectors and the identities they belong to, for one engine's vector space.

    ``vectors`` is (N, dim) float32 of unit rows, ``owners`` (N,) int indices into
    ``identities``. All vectors must come from ``info`` (the caller filters by it).
    """

    def __init__(
        self,
        info: EngineInfo,
        identities: list[Identity] | None = None,
        vectors: NDArray[np.float32] | None = None,
        owners: NDArray[np.int64] | None = None,
    ) -> None:
        self.info = info
        self.identities: list[Identity] = list(identities or [])
        self.vectors = np.zeros((0, info.dim), np.float32) if vectors is None else np.asarray(vectors, np.float32)
        self.owners = np.zeros((0,), np.int64) if owners is None else np.asarray(owners, np.int64)
        if self.vectors.shape[0] != self.owners.shape[0] or self.vectors.shape[1] != info.dim:
            raise ValueError("gallery vectors and owners disagree in shape")

    def __len__(self) -> int:
        return len(self.identities)

    def add(self, identity: Identity, vectors: NDArray[np.float32]) -> int:
        """Add ``identity`` (or more vectors to it, by id) and return its index."""
        index = next((i for i, known in enumerate(self.identities) if known.id == identity.id), None)
        if index is None:
            self.identities.append(identity)
            index = len(self.identities) - 1
        rows = np.asarray(vectors, np.float32).reshape(-1, self.info.dim)
        self.vectors = np.vstack([self.vectors, rows])
        self.owners = np.concatenate([self.owners, np.full(rows.shape[0], index, np.int64)])
        return index

    def similarity(self, embeddings: NDArray[np.float32]) -> NDArray[np.float32]:
        """Best cosine similarity of each embedding to each identity: shape (M, len(self)).

        One matrix product against all reference vectors, then a per-identity maximum
        with ``np.maximum.at`` — no Python loop over identities.
        """
        queries = np.asarray(embeddings, np.float32).reshape(-1, self.info.dim)
        result = np.full((queries.shape[0], len(self.identities)), -1.0, np.float32)
        if queries.shape[0] == 0 or self.vectors.shape[0] == 0:
            return result
        sims = queries @ self.vectors.T  # (M, N)
        np.maximum.at(result.T, self.owners, sims.T)
        return result
