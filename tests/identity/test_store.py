from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from vidiplug.engine import dlib, insightface
from vidiplug.engine.base import EngineInfo, l2_normalise
from vidiplug.errors import StoreError
from vidiplug.identity.gallery import IdentityKind
from vidiplug.identity.store import SCHEMA_VERSION, SqliteStore, open_store

DLIB = EngineInfo("dlib", "hog+resnet", "v1", 4, dlib.RULES)
OTHER = EngineInfo("insightface", "det+rec", "v9", 4, insightface.RULES)


def _vec(*values: float) -> np.ndarray:
    return l2_normalise(np.array([values], np.float32))


def test_vectors_of_another_engine_are_never_loaded(store_url: str) -> None:
    with open_store(store_url) as store:
        person = store.person("Ada")
        store.add_vectors(person.id, DLIB, _vec(1, 0, 0, 0), [0.9])
        store.add_vectors(person.id, OTHER, _vec(0, 1, 0, 0), [0.9])

        gallery = store.load_gallery(DLIB)

    assert gallery.vectors.shape == (1, 4) and np.allclose(gallery.vectors[0], [1, 0, 0, 0])


def test_store_survives_reopening(store_url: str) -> None:
    with open_store(store_url) as store:
        unknown = store.create_unknown(DLIB, _vec(1, 1, 0, 0), [0.5], b"jpeg")

    with open_store(store_url) as store:
        again = store.get(unknown.id)
        thumb = store.thumbnail(unknown.id)

    assert again.kind is IdentityKind.UNKNOWN and thumb == b"jpeg"


def test_suppressed_fingerprint_is_loaded_with_its_flag(store_url: str) -> None:
    with open_store(store_url) as store:
        unknown = store.create_unknown(DLIB, _vec(1, 1, 0, 0), [0.5], None)
        store.set_suppressed(unknown.id)

        gallery = store.load_gallery(DLIB)

    assert gallery.identities[0].suppressed


def test_renaming_to_an_existing_name_merges_vectors(store_url: str) -> None:
    with open_store(store_url) as store:
        person = store.person("Grace")
        store.add_vectors(person.id, DLIB, _vec(1, 0, 0, 0), [0.9])
        unknown = store.create_unknown(DLIB, _vec(0, 1, 0, 0), [0.5], None)

        survivor = store.rename(unknown.id, "Grace")
        gallery = store.load_gallery(DLIB)

        assert survivor.id == person.id
        assert len(gallery) == 1 and gallery.vectors.shape == (2, 4)
        with pytest.raises(StoreError):
            store.get(unknown.id)


def test_keep_best_caps_vectors_by_quality(store_url: str) -> None:
    with open_store(store_url) as store:
        unknown = store.create_unknown(DLIB, _vec(1, 0, 0, 0), [0.1], None)
        store.add_vectors(unknown.id, DLIB, np.vstack([_vec(0, 1, 0, 0), _vec(0, 0, 1, 0)]), [0.9, 0.5], keep_best=2)

        gallery = store.load_gallery(DLIB)

    assert gallery.vectors.shape == (2, 4)
    assert not any(np.allclose(row, [1, 0, 0, 0]) for row in gallery.vectors)


@pytest.mark.parametrize("name", ["", "   ", "a\x00b", "x" * 300])
def test_bad_names_are_refused(store_url: str, name: str) -> None:
    with open_store(store_url) as store, pytest.raises(StoreError):
        store.person(name)


def test_hostile_name_is_stored_verbatim(store_url: str) -> None:
    name = "Robert'); DROP TABLE identities;--"
    with open_store(store_url) as store:
        store.person(name)

        found = store.find_by_name(name)

    assert found is not None and found.name == name


def test_unknown_id_is_a_clear_error(store_url: str) -> None:
    with open_store(store_url) as store, pytest.raises(StoreError, match="no identity 'nope'"):
        store.set_suppressed("nope")


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_bytes(b"not sqlite" * 200)

    with pytest.raises(StoreError, match=r"bogus.sqlite"):
        SqliteStore(bogus)


def test_a_new_unknown_is_pending_until_its_item_is_confirmed(store_url: str) -> None:
    with open_store(store_url) as store:
        first = store.create_unknown(DLIB, _vec(1, 0, 0, 0), [0.5], None)
        second = store.create_unknown(DLIB, _vec(0, 1, 0, 0), [0.5], None)
        person = store.person("Ada")
        before = store.pending_unknowns()

        changed = store.mark_imported([first.id, person.id, "not-stored"])
        again = store.mark_imported([first.id])

        assert before == {first.id, second.id}
        assert (changed, again) == (1, 0)
        assert store.pending_unknowns() == {second.id}


# The identities table as vidiplug wrote it before schema 2 (no imported_at column).
SCHEMA_1_IDENTITIES = """
CREATE TABLE identities (id TEXT PRIMARY KEY, name TEXT, kind TEXT NOT NULL CHECK (kind IN ('known', 'unknown')),
    suppressed INTEGER NOT NULL DEFAULT 0, thumbnail BLOB, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
INSERT INTO identities VALUES ('old-unknown', NULL, 'unknown', 0, NULL, '2025-01-01T00:00:00', '2025-01-01T00:00:00');
PRAGMA user_version = 1;
"""


def test_a_schema_1_store_is_migrated_with_its_unknowns_pending(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA_1_IDENTITIES)
    db.close()

    with SqliteStore(path) as store:
        pending = store.pending_unknowns()
        store.mark_imported(["old-unknown"])
    with SqliteStore(path) as store:
        reopened = store.pending_unknowns()
        claim = store.claim_work("direct:VX-1", "host-a", 3600.0)
    with sqlite3.connect(path) as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]
    db.close()

    assert pending == {"old-unknown"}
    assert reopened == set()
    assert claim is not None and claim.attempts == 1  # the work claims table was added
    assert version == SCHEMA_VERSION == 2


def test_training_sources_are_found_moved_and_removed_by_prefix(store_url: str) -> None:
    with open_store(store_url) as store:
        ada, bob = store.person("Ada"), store.person("Bob")
        for source in ("vidicore:VX-1", "vidicore:VX-2", "vidicore_VX-3", "photo%_1.jpg"):
            store.add_vectors(ada.id, DLIB, _vec(1, 0, 0, 0), [0.9], source=source)

        store.move_source("vidicore:VX-2", bob.id)
        removed = store.remove_sources("vidicore:", keep={"vidicore:VX-2"})

        assert removed == 1
        assert (store.has_source(DLIB, "vidicore:VX-1"), store.has_source(OTHER, "vidicore:VX-2")) == (False, False)
        assert store.source_owner(DLIB, "vidicore:VX-2") == bob.id
        assert store.source_owner(DLIB, "vidicore_VX-3") == ada.id  # '_' is no wildcard
        assert store.source_owner(DLIB, "photo%_1.jpg") == ada.id
