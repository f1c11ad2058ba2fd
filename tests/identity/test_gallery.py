from __future__ import annotations

import numpy as np

from vidiplug.engine.base import EngineInfo, l2_normalise
from vidiplug.engine.dlib import RULES
from vidiplug.identity.gallery import Gallery, Identity, IdentityKind

INFO = EngineInfo("dlib", "hog+test", "abc", 8, RULES)


def _gallery(rng: np.random.Generator) -> Gallery:
    gallery = Gallery(INFO)
    for i in range(5):
        gallery.add(Identity(f"id-{i}", f"P{i}", IdentityKind.KNOWN), l2_normalise(rng.normal(size=(i + 1, 8))))
    return gallery


def test_similarity_is_the_best_vector_per_identity() -> None:
    rng = np.random.default_rng(1)
    gallery = _gallery(rng)
    queries = l2_normalise(rng.normal(size=(4, 8)))

    sims = gallery.similarity(queries)

    expected = np.array([
        [max(float(q @ v) for v, o in zip(gallery.vectors, gallery.owners) if o == k) for k in range(len(gallery))]
        for q in queries
    ])
    assert sims.shape == (4, 5)
    assert np.allclose(sims, expected, atol=1e-6)


def test_adding_vectors_to_an_existing_identity_keeps_one_entry() -> None:
    gallery = Gallery(INFO)
    first = gallery.add(Identity("a", "A", IdentityKind.KNOWN), l2_normalise(np.ones((1, 8))))

    second = gallery.add(Identity("a", "A", IdentityKind.KNOWN), l2_normalise(np.ones((2, 8))))

    assert first == second == 0 and len(gallery) == 1 and gallery.vectors.shape == (3, 8)


def test_empty_gallery_gives_no_similarities() -> None:
    sims = Gallery(INFO).similarity(l2_normalise(np.ones((2, 8))))

    assert sims.shape == (2, 0)
