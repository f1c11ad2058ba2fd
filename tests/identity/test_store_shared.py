"""The identity store as several service instances share it: races settled by the database, shared memory, copying."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psycopg
import pytest

from postgres_server import PostgresServer
from vidiplug.engine import dlib, insightface
from vidiplug.engine.base import EngineInfo, l2_normalise
from vidiplug.errors import StoreError
from vidiplug.identity.gallery import IdentityKind
from vidiplug.identity.store import SqliteStore, WorkClaim, copy_store, open_store, redact_url
from vidiplug.identity.store.postgres import PostgresStore

DLIB = EngineInfo("dlib", "hog+resnet", "v1", 4, dlib.RULES)
OTHER = EngineInfo("insightface", "det+rec", "v9", 4, insightface.RULES)
JOIN = 0.9
RACERS = 4
ROUNDS = 5
CLAIMERS = 8
LIVE_S = 3600.0
"""A stale_after_s no claim in a test outlives: its holder counts as live."""


def _vec(*values: float) -> np.ndarray:
    return l2_normalise(np.array([values], np.float32))


def _race(store_url: str, action: Callable[[object], object], racers: int = RACERS) -> list[object]:
    """Run ``action(store)`` at once in ``racers`` threads, each with its own store connection; their results."""
    stores = [open_store(store_url) for _ in range(racers)]
    start = threading.Barrier(racers, timeout=60)
    results: list[object] = [None] * racers
    errors: list[BaseException] = []

    def racer(index: int) -> None:
        try:
            start.wait()
            results[index] = action(stores[index])
        except BaseException as exc:  # noqa: BLE001 - a racer's failure is surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for store in stores:
        store.close()
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_instances_seeing_one_new_face_at_once_make_one_fingerprint(store_url: str) -> None:
    faces = [_vec(*np.eye(4)[k % 4] + 0.01 * k) for k in range(ROUNDS)]
    made: list[set[str]] = []

    for face in faces:
        found = _race(store_url, lambda store, f=face: store.create_unknown(  # type: ignore[attr-defined]
            DLIB, f, [0.8], b"jpeg", join_similarity=JOIN, keep_best=10))
        made.append({identity.id for identity in found})  # type: ignore[attr-defined]
    with open_store(store_url) as store:
        unknowns = [i for i in store.iter_identities() if i.kind is IdentityKind.UNKNOWN]
        gallery = store.load_gallery(DLIB)

    assert all(len(ids) == 1 for ids in made), made
    assert len(unknowns) == 4  # rounds 0 and 4 show the same face
    assert gallery.vectors.shape == (ROUNDS * RACERS, 4)


def test_a_face_unlike_every_stored_unknown_makes_its_own_fingerprint(store_url: str) -> None:
    with open_store(store_url) as store:
        first = store.create_unknown(DLIB, _vec(1, 0, 0, 0), [0.5], None, join_similarity=JOIN)

        other = store.create_unknown(DLIB, _vec(0, 1, 0, 0), [0.5], None, join_similarity=JOIN)
        twin = store.create_unknown(DLIB, _vec(1, 0.05, 0, 0), [0.5], None, join_similarity=JOIN)

    assert other.id != first.id
    assert twin.id == first.id


def test_excluded_suppressed_and_other_engine_unknowns_are_never_joined(store_url: str) -> None:
    with open_store(store_url) as store:
        judged = store.create_unknown(DLIB, _vec(1, 0, 0, 0), [0.5], None)
        deleted = store.create_unknown(DLIB, _vec(0, 1, 0, 0), [0.5], None)
        store.set_suppressed(deleted.id)
        store.create_unknown(OTHER, _vec(0, 0, 1, 0), [0.5], None)

        again = store.create_unknown(DLIB, _vec(1, 0, 0, 0), [0.5], None, join_similarity=JOIN, exclude={judged.id})
        after_deleted = store.create_unknown(DLIB, _vec(0, 1, 0, 0), [0.5], None, join_similarity=JOIN)
        across_engines = store.create_unknown(DLIB, _vec(0, 0, 1, 0), [0.5], None, join_similarity=JOIN)

        assert len({judged.id, deleted.id, again.id, after_deleted.id, across_engines.id}) == 5
        assert store.count() == 6


def test_instances_naming_one_person_at_once_make_one_person(store_url: str) -> None:
    found = _race(store_url, lambda store: store.person("Ada Lovelace"))  # type: ignore[attr-defined]

    with open_store(store_url) as store:
        people = [i for i in store.iter_identities() if i.kind is IdentityKind.KNOWN]

    assert len({identity.id for identity in found}) == 1  # type: ignore[attr-defined]
    assert [p.name for p in people] == ["Ada Lovelace"]


def test_of_instances_claiming_one_rename_exactly_one_wins(store_url: str) -> None:
    won = _race(store_url, lambda store: store.claim_relabel("VX-1", "Ada", "host"))  # type: ignore[attr-defined]

    with open_store(store_url) as store:
        again = store.claim_relabel("VX-1", "Ada", "other-host")
        renamed = store.claim_relabel("VX-1", "Ada L.", "other-host")
        store.release_relabel("VX-1", "Ada L.")
        after_release = store.relabel_requests()

    assert sorted(won, key=bool) == [False] * (RACERS - 1) + [True]
    assert (again, renamed, after_release) == (False, True, {})


def test_the_first_claim_on_work_wins_and_a_live_holder_keeps_it(store_url: str) -> None:
    with open_store(store_url) as one, open_store(store_url) as two:
        first = one.claim_work("direct:VX-1", "host-a", LIVE_S)
        refused = two.claim_work("direct:VX-1", "host-b", LIVE_S)
        other_key = two.claim_work("direct:VX-2", "host-b", LIVE_S)
        renewed = one.renew_work("direct:VX-1", "host-a")

        held = two.work_claims()

    assert first == WorkClaim("direct:VX-1", "host-a", 1, None)
    assert refused is None
    assert other_key == WorkClaim("direct:VX-2", "host-b", 1, None)
    assert renewed is True
    assert held == [WorkClaim("direct:VX-1", "host-a", 1, None), WorkClaim("direct:VX-2", "host-b", 1, None)]


def test_stale_work_is_taken_over_and_its_old_holder_cannot_renew_it(store_url: str) -> None:
    with open_store(store_url) as one, open_store(store_url) as two:
        one.claim_work("direct:VX-1", "host-a", LIVE_S)

        taken = two.claim_work("direct:VX-1", "host-b", 0)
        old_renews = one.renew_work("direct:VX-1", "host-a")
        old_releases = one.release_work("direct:VX-1", "host-a")
        new_renews = two.renew_work("direct:VX-1", "host-b")
        back = one.claim_work("direct:VX-1", "host-a", 0)

        held = two.work_claims("direct:")

    assert taken == WorkClaim("direct:VX-1", "host-b", 2, "host-a")
    assert (old_renews, old_releases, new_renews) == (False, False, True)
    assert back == WorkClaim("direct:VX-1", "host-a", 3, "host-b")
    assert held == [WorkClaim("direct:VX-1", "host-a", 3, None)]


def test_an_instance_claiming_its_own_work_again_counts_a_new_attempt(store_url: str) -> None:
    with open_store(store_url) as before_restart:
        before_restart.claim_work("direct:VX-1", "host-a", LIVE_S)
    with open_store(store_url) as after_restart:

        again = after_restart.claim_work("direct:VX-1", "host-a", LIVE_S)

    assert again == WorkClaim("direct:VX-1", "host-a", 2, None)


def test_only_the_holder_releases_work_and_released_work_is_free(store_url: str) -> None:
    with open_store(store_url) as store:
        store.claim_work("direct:VX-1", "host-a", LIVE_S)

        by_other = store.release_work("direct:VX-1", "host-b")
        still = store.work_claims()
        by_holder = store.release_work("direct:VX-1", "host-a")
        twice = store.release_work("direct:VX-1", "host-a")
        renew_released = store.renew_work("direct:VX-1", "host-a")
        fresh = store.claim_work("direct:VX-1", "host-b", LIVE_S)

    assert (by_other, by_holder, twice, renew_released) == (False, True, False, False)
    assert still == [WorkClaim("direct:VX-1", "host-a", 1, None)]
    assert fresh == WorkClaim("direct:VX-1", "host-b", 1, None)


def test_of_instances_claiming_one_unit_of_work_at_once_exactly_one_wins(store_url: str) -> None:
    won = _race(store_url, lambda store: store.claim_work(  # type: ignore[attr-defined]
        "direct:VX-1", f"host-{threading.get_ident()}", LIVE_S), racers=CLAIMERS)

    with open_store(store_url) as store:
        held = store.work_claims()

    winners = [claim for claim in won if claim is not None]
    assert len(winners) == 1 and len(won) == CLAIMERS
    assert held == winners
    assert held[0].attempts == 1 and held[0].previous_instance is None


def test_work_claims_are_listed_by_a_literal_prefix(store_url: str) -> None:
    keys = ["jobs%_1", "jobs%_2", "jobsX_3", "jobs%Y4", "JOBS%_5", "jobs\\%_6", "other"]
    with open_store(store_url) as store:
        for key in keys:
            store.claim_work(key, "host-a", LIVE_S)

        literal = [claim.key for claim in store.work_claims("jobs%_")]
        backslash = [claim.key for claim in store.work_claims("jobs\\")]
        everything = [claim.key for claim in store.work_claims()]

    assert literal == ["jobs%_1", "jobs%_2"]
    assert backslash == ["jobs\\%_6"]
    assert everything == sorted(keys)


def test_item_sightings_are_shared_through_the_store(store_url: str) -> None:
    with open_store(store_url) as one, open_store(store_url) as two:
        one.record_item_sightings({"fp-1": "VX-1", "fp-2": "VX-2"})
        two.record_item_sightings({"fp-1": "VX-9"})
        two.forget_item_sightings(["fp-2"])

        seen = one.item_sightings()

    assert seen == {"fp-1": "VX-9"}


def test_service_state_is_replaced_per_key(store_url: str) -> None:
    with open_store(store_url) as store:
        missing = store.load_state("autotrain")
        store.save_state("autotrain", '{"a": 1}')
        store.save_state("autotrain", '{"a": 2}')
        store.save_state("other", "x")

        kept = store.load_state("autotrain")

    assert (missing, kept) == (None, '{"a": 2}')


def test_a_sqlite_store_is_copied_into_postgresql_with_its_engine_stamps(
        tmp_path: Path, postgres_server: PostgresServer) -> None:
    with SqliteStore(tmp_path / "s.sqlite") as source:
        ada = source.person("Ada")
        source.add_vectors(ada.id, DLIB, _vec(1, 0, 0, 0), [0.9], source="vidicore:VX-1")
        unknown = source.create_unknown(OTHER, _vec(0, 1, 0, 0), [0.4], b"\xff\xd8jpeg")
        source.mark_imported([unknown.id])
        source.record_item_sightings({unknown.id: "VX-2"})
        source.claim_relabel("VX-2", "Bob", "host")
        source.save_state("autotrain", "{}")
        source.claim_work("direct:VX-2", "host", LIVE_S)
        with postgres_server.database() as url, open_store(url) as target:

            copied = copy_store(source, target)

            assert copied == {"identities": 2, "vectors": 2, "vidiplug_item_sightings": 1,
                              "vidiplug_relabel_requests": 1, "vidiplug_state": 1, "vidiplug_work_claims": 1}
            assert target.load_gallery(DLIB).identities[0].name == "Ada"
            assert np.allclose(target.load_gallery(OTHER).vectors, _vec(0, 1, 0, 0))
            assert target.source_owner(DLIB, "vidicore:VX-1") == ada.id
            assert target.thumbnail(unknown.id) == b"\xff\xd8jpeg"
            assert target.pending_unknowns() == set()
            assert target.item_sightings() == {unknown.id: "VX-2"}
            assert target.claim_relabel("VX-2", "Bob", "other") is False
            assert target.work_claims() == [WorkClaim("direct:VX-2", "host", 1, None)]
            assert target.claim_work("direct:VX-2", "other", LIVE_S) is None
            assert target.claim_work("direct:VX-2", "other", 0) == WorkClaim("direct:VX-2", "other", 2, "host")
            with pytest.raises(StoreError, match="already holds 2 identities"):
                copy_store(source, target)


def test_a_postgresql_password_never_shows_in_an_error(postgres_server: PostgresServer) -> None:
    url = f"postgresql://nobody:Sup3r-Secret@127.0.0.1:{postgres_server.port}/no_such_db"

    with pytest.raises(StoreError) as caught:
        open_store(url)

    assert "Sup3r-Secret" not in str(caught.value)
    assert "nobody:***@127.0.0.1" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_store_urls_are_shown_without_passwords() -> None:
    assert redact_url("postgresql://u:p%40ss@db:5432/ids?sslmode=require") == "postgresql://u:***@db:5432/ids?sslmode=require"
    assert redact_url("postgresql://db/ids?password=hunter22&x=1") == "postgresql://db/ids?password=***&x=1"
    assert redact_url("/var/lib/vidiplug/ids.sqlite") == "/var/lib/vidiplug/ids.sqlite"


def test_vectors_are_pgvector_values_exactly_when_the_server_has_pgvector(postgres_server: PostgresServer) -> None:
    with postgres_server.database() as url, psycopg.connect(url, autocommit=True) as probe:
        available = probe.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone() is not None
        with PostgresStore(url) as store:
            store.create_unknown(DLIB, _vec(1, 2, 3, 4), [0.5], None)
            gallery = store.load_gallery(DLIB)
            column = probe.execute("SELECT udt_name FROM information_schema.columns"
                                   " WHERE table_name = 'vectors' AND column_name = 'vector'").fetchone()

    assert store.pgvector is available
    assert column == (("vector",) if available else ("_float4",))
    assert np.allclose(gallery.vectors, _vec(1, 2, 3, 4))
