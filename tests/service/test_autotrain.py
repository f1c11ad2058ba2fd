"""Automated training: AutoTrainer watches the training collection and starts train jobs by itself.

Against mock_vidicore and moto with a real service running the jobs. The debounce is driven
by a fake clock and explicit ``tick()`` calls; only the scheduler test runs on real time,
and it waits on conditions, never on sleeps. Where a job must stay active for a while, the
service is stopped (nothing claims it) or the test ends the job itself through the
service's own protocol calls.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from operator_api import Operator, field_values, job_data, wait_for
from vidiplug.identity.store import IdentityStore, open_store
from vidiplug.service.app import ServiceApp
from vidiplug.service.autotrain import (
    AUTOTRAIN_KEY,
    REASON_KEY,
    SCHEDULER_JOB_ID,
    STATE_KEY,
    AutoTrainer,
    Material,
    describe_changes,
    legacy_state_path,
)
from vidiplug.service.registration import Registration
from vidiplug.settings import StoreSettings
from vidiplug.vidicore.client import VidiCoreClient

OBAMA = "face_recognition/examples/obama.jpg"
BIDEN = "face_recognition/examples/biden.jpg"
DEBOUNCE_S = 30.0


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(start_service: Callable[..., ServiceApp]) -> ServiceApp:
    """A running service with a training collection of its own (tests share one mock)."""
    return start_service(service__training_collection=f"AutoTrain-{uuid.uuid4().hex[:8]}",
                         service__autotrain_debounce_s=DEBOUNCE_S)


def registration(app: ServiceApp) -> Registration:
    assert app.registration is not None
    return app.registration


_OPENED: list[IdentityStore] = []


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    """Close the store connections trainer_for opened (a trainer may outlive its stopped service)."""
    yield
    while _OPENED:
        _OPENED.pop().close()


def app_store(app: ServiceApp) -> IdentityStore:
    """A new connection to ``app``'s identity store, closed after the test."""
    store = open_store(app.settings.store.resolved_url())
    _OPENED.append(store)
    return store


def trainer_for(app: ServiceApp, clock: Callable[[], float],
                client_factory: Callable[[], VidiCoreClient] | None = None) -> AutoTrainer:
    return AutoTrainer(client_factory or app.client, registration(app), app.settings, app_store(app), clock=clock)


def train_jobs(operator: Operator, reg: Registration) -> list[dict[str, Any]]:
    """Every train job on the training collection addressed to our resource, oldest first."""
    doc = operator.call("GET", "job", params={"jobmetadata": f"resourceId={reg.resource_id}", "metadata": "true",
                                              "number": "1000"}) or {}
    return [job for job in doc.get("job", []) or []
            if job_data(job).get("collectionId") == reg.training_collection_id]


def upload(operator: Operator, data_dir: Path, reg: Registration, photo: str, name: str) -> str:
    """A training photo of ``name`` as Vidispine's UI adds it to the training collection; its id."""
    item = operator.import_file(data_dir / photo, ("vcs_face_isTrainingMaterial", "true"), ("vcs_face_value", name))
    operator.add_to_collection(reg.training_collection_id, item)
    return item


def tick_past_debounce(trainer: AutoTrainer, clock: FakeClock) -> None:
    """One tick that sees the current state, then one after a full quiet period."""
    trainer.tick()
    clock.advance(DEBOUNCE_S)
    trainer.tick()


def end_job(app: ServiceApp, job_id: str, status: str, reason: str | None = None) -> None:
    """End a READY job as a service would (claim, status), for tests whose service is stopped."""
    with app.client() as client:
        client.claim_job(job_id, registration(app).resource_id, "test-hand")
        client.set_job_status(job_id, "test-hand", status, reason=reason)


def trained_names(app: ServiceApp) -> set[str]:
    """The names of the people the service's store has vectors for."""
    return {i.name for i in app.store.load_gallery(app.engine.info).identities if i.name}


def trained_pair(service: ServiceApp, operator: Operator, data_dir: Path,
                 trainer: AutoTrainer, clock: FakeClock) -> tuple[str, str]:
    """Obama and Biden uploaded and auto-trained to FINISHED (the trainer has seen it end)."""
    reg = registration(service)
    items = upload(operator, data_dir, reg, OBAMA, "Barack Obama"), upload(operator, data_dir, reg, BIDEN, "Joe Biden")
    tick_past_debounce(trainer, clock)
    (job,) = train_jobs(operator, reg)
    assert operator.wait_job(job["jobId"])["status"] == "FINISHED"
    trainer.tick()
    return items


def test_describe_changes_counts_each_kind_of_change() -> None:
    before = {"VX-1": Material("Ann", (("VX-10", ("file:///a.jpg",)),)),
              "VX-2": Material("Bob", (("VX-20", ("file:///b.jpg",)),)),
              "VX-3": Material("Cy", (("VX-30", ("file:///c.jpg",)),))}
    after = {"VX-1": Material("Anne", (("VX-10", ("file:///a.jpg",)),)),
             "VX-2": Material("Bob", (("VX-21", ("file:///b2.jpg",)),)),
             "VX-4": Material("Di", ()), "VX-5": Material("Ed", ())}

    text = describe_changes(before, after)

    assert text == "2 items added, 1 item renamed, 1 item media changed, 1 item removed"
    assert describe_changes(after, after) == "no change"


def test_uploads_start_exactly_one_job_after_the_quiet_period(service: ServiceApp, operator: Operator,
                                                               data_dir: Path, clock: FakeClock) -> None:
    reg = registration(service)
    trainer = trainer_for(service, clock)
    upload(operator, data_dir, reg, OBAMA, "Barack Obama")
    trainer.tick()
    clock.advance(DEBOUNCE_S - 1)
    upload(operator, data_dir, reg, BIDEN, "Joe Biden")
    trainer.tick()  # a second change restarts the quiet period
    clock.advance(DEBOUNCE_S - 1)
    trainer.tick()
    assert train_jobs(operator, reg) == []

    clock.advance(1)
    trainer.tick()
    trainer.tick()

    (job,) = train_jobs(operator, reg)
    assert job_data(job)[AUTOTRAIN_KEY] == "true"
    assert job_data(job)[REASON_KEY] == "2 items added"
    assert operator.wait_job(job["jobId"])["status"] == "FINISHED"
    for item in operator.collection_items(reg.training_collection_id):
        assert field_values(operator.metadata(item), "vcs_face_method") == ["TRAINED"]
    assert trained_names(service) == {"Barack Obama", "Joe Biden"}


def test_no_change_after_training_starts_no_job(service: ServiceApp, operator: Operator,
                                                data_dir: Path, clock: FakeClock) -> None:
    trainer = trainer_for(service, clock)
    trained_pair(service, operator, data_dir, trainer, clock)

    for _ in range(3):
        clock.advance(DEBOUNCE_S)
        trainer.tick()

    assert len(train_jobs(operator, registration(service))) == 1


def test_renaming_a_trained_item_starts_another_job(service: ServiceApp, operator: Operator,
                                                    data_dir: Path, clock: FakeClock) -> None:
    trainer = trainer_for(service, clock)
    _, biden = trained_pair(service, operator, data_dir, trainer, clock)

    operator.set_fields(biden, ("vcs_face_value", "Joseph R. Biden"))
    tick_past_debounce(trainer, clock)

    _, second = train_jobs(operator, registration(service))
    assert job_data(second)[REASON_KEY] == "1 item renamed"
    assert operator.wait_job(second["jobId"])["status"] == "FINISHED"
    assert trained_names(service) == {"Barack Obama", "Joseph R. Biden"}


def test_removing_an_item_from_the_collection_starts_another_job(service: ServiceApp, operator: Operator,
                                                                 data_dir: Path, clock: FakeClock) -> None:
    reg = registration(service)
    trainer = trainer_for(service, clock)
    obama, _ = trained_pair(service, operator, data_dir, trainer, clock)

    operator.call("DELETE", f"collection/{reg.training_collection_id}/{obama}", params={"type": "item"},
                  headers={"Accept": "text/plain"})
    tick_past_debounce(trainer, clock)

    _, second = train_jobs(operator, reg)
    assert job_data(second)[REASON_KEY] == "1 item removed"
    assert operator.wait_job(second["jobId"])["status"] == "FINISHED"
    assert trained_names(service) == {"Joe Biden"}


def test_items_that_are_not_training_material_start_no_job(service: ServiceApp, operator: Operator,
                                                           data_dir: Path, clock: FakeClock) -> None:
    reg = registration(service)
    trainer = trainer_for(service, clock)
    plain = operator.import_file(data_dir / OBAMA, ("vcs_face_value", "Barack Obama"))
    operator.add_to_collection(reg.training_collection_id, plain)

    tick_past_debounce(trainer, clock)

    assert train_jobs(operator, reg) == []


def test_a_change_during_training_waits_and_trains_again_afterwards(
        start_service: Callable[..., ServiceApp], operator: Operator, data_dir: Path, clock: FakeClock) -> None:
    names = {"service__training_collection": f"AutoTrain-{uuid.uuid4().hex[:8]}",
             "vidicore__resource_name": f"vidiplug-{uuid.uuid4().hex[:8]}", "service__autotrain_debounce_s": DEBOUNCE_S}
    stopped = start_service(**names)
    stopped.stop()  # nothing claims jobs now: the first one stays READY
    reg = registration(stopped)
    trainer = trainer_for(stopped, clock)
    upload(operator, data_dir, reg, OBAMA, "Barack Obama")
    biden = upload(operator, data_dir, reg, BIDEN, "Joe Biden")
    tick_past_debounce(trainer, clock)
    operator.set_fields(biden, ("vcs_face_value", "Joseph R. Biden"))
    tick_past_debounce(trainer, clock)
    (first,) = train_jobs(operator, reg)

    restarted = start_service(**names)  # same resource: it claims and runs the waiting job
    assert operator.wait_job(first["jobId"])["status"] == "FINISHED"
    trainer.tick()

    _, second = train_jobs(operator, reg)
    assert job_data(second)[REASON_KEY] == "1 item renamed"
    assert operator.wait_job(second["jobId"])["status"] == "FINISHED"
    assert trained_names(restarted) == {"Barack Obama", "Joseph R. Biden"}


def test_a_train_job_started_by_someone_else_postpones_autotraining(
        service: ServiceApp, operator: Operator, data_dir: Path, clock: FakeClock) -> None:
    reg = registration(service)
    service.stop()
    trainer = trainer_for(service, clock)
    upload(operator, data_dir, reg, OBAMA, "Barack Obama")
    manual = operator.train(reg.training_collection_id, reg.resource_id, reg.callback_id)
    tick_past_debounce(trainer, clock)
    assert [j["jobId"] for j in train_jobs(operator, reg)] == [manual]

    operator.call("DELETE", f"job/{manual}", params={"reason": "operator changed their mind"})
    trainer.tick()

    first, auto = train_jobs(operator, reg)
    assert first["jobId"] == manual
    assert job_data(auto)[REASON_KEY] == "1 item added"


def test_a_failed_job_is_not_retried_until_the_material_changes(
        service: ServiceApp, operator: Operator, data_dir: Path, clock: FakeClock) -> None:
    reg = registration(service)
    service.stop()
    trainer = trainer_for(service, clock)
    obama = upload(operator, data_dir, reg, OBAMA, "Barack Obama")
    tick_past_debounce(trainer, clock)
    (failed,) = train_jobs(operator, reg)
    end_job(service, failed["jobId"], "FAILED_TOTAL", reason="disk full")
    tick_past_debounce(trainer, clock)
    assert len(train_jobs(operator, reg)) == 1

    operator.set_fields(obama, ("vcs_face_value", "Barack H. Obama"))
    tick_past_debounce(trainer, clock)

    _, retried = train_jobs(operator, reg)
    assert job_data(retried)[REASON_KEY] == "1 item added"  # against the last successful training: none


def test_a_restarted_trainer_does_not_retrain_what_was_trained(
        service: ServiceApp, operator: Operator, data_dir: Path, clock: FakeClock) -> None:
    reg = registration(service)
    service.stop()
    trainer = trainer_for(service, clock)
    obama = upload(operator, data_dir, reg, OBAMA, "Barack Obama")
    tick_past_debounce(trainer, clock)
    (job,) = train_jobs(operator, reg)
    end_job(service, job["jobId"], "FINISHED")
    trainer.tick()

    again = trainer_for(service, clock)
    tick_past_debounce(again, clock)

    assert len(train_jobs(operator, reg)) == 1
    saved = json.loads(app_store(service).load_state(STATE_KEY) or "null")
    assert list(saved["collections"][reg.training_collection_id]) == [obama]


def test_a_state_file_left_beside_the_store_is_moved_into_it_once(
        service: ServiceApp, operator: Operator, data_dir: Path, clock: FakeClock, tmp_path: Path) -> None:
    reg = registration(service)
    service.stop()
    trainer = trainer_for(service, clock)
    obama = upload(operator, data_dir, reg, OBAMA, "Barack Obama")
    tick_past_debounce(trainer, clock)
    (job,) = train_jobs(operator, reg)
    end_job(service, job["jobId"], "FINISHED")
    trainer.tick()
    older = dataclasses.replace(service.settings, store=StoreSettings(path=tmp_path / "older.sqlite"))
    legacy = legacy_state_path(older)
    assert legacy is not None
    legacy.write_text(app_store(service).load_state(STATE_KEY) or "", encoding="utf-8")

    with open_store(older.store.resolved_url()) as store:
        again = AutoTrainer(service.client, reg, older, store, clock=clock)
        tick_past_debounce(again, clock)
        moved = json.loads(store.load_state(STATE_KEY) or "null")

    assert len(train_jobs(operator, reg)) == 1
    assert not legacy.exists()
    assert list(moved["collections"][reg.training_collection_id]) == [obama]


def test_a_change_made_while_stopped_is_trained_after_restart(
        service: ServiceApp, operator: Operator, data_dir: Path, clock: FakeClock) -> None:
    reg = registration(service)
    service.stop()
    trainer = trainer_for(service, clock)
    upload(operator, data_dir, reg, OBAMA, "Barack Obama")
    tick_past_debounce(trainer, clock)
    (job,) = train_jobs(operator, reg)
    end_job(service, job["jobId"], "FINISHED")
    trainer.tick()

    upload(operator, data_dir, reg, BIDEN, "Joe Biden")
    again = trainer_for(service, clock)
    tick_past_debounce(again, clock)

    _, second = train_jobs(operator, reg)
    assert job_data(second)[REASON_KEY] == "1 item added"


def test_vidicore_down_is_logged_and_retried_next_tick(service: ServiceApp, operator: Operator, data_dir: Path,
                                                       clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    reg = registration(service)
    service.stop()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens once the probe is closed
    reachable = [False]

    def factory() -> VidiCoreClient:
        return service.client() if reachable[0] else VidiCoreClient(dead_url, "admin", "admin", timeout_s=2)

    trainer = trainer_for(service, clock, factory)
    upload(operator, data_dir, reg, OBAMA, "Barack Obama")
    with caplog.at_level(logging.WARNING, logger="vidiplug.service"):
        tick_past_debounce(trainer, clock)
    assert "cannot connect" in caplog.text
    assert train_jobs(operator, reg) == []

    reachable[0] = True
    tick_past_debounce(trainer, clock)

    assert len(train_jobs(operator, reg)) == 1


def test_the_scheduled_trainer_trains_uploads_by_itself_until_stopped(
        start_service: Callable[..., ServiceApp], operator: Operator, data_dir: Path) -> None:
    app = start_service(service__training_collection=f"AutoTrain-{uuid.uuid4().hex[:8]}",
                        service__autotrain_debounce_s=2.0)
    reg = registration(app)
    scheduler = BackgroundScheduler()
    scheduler.start()
    trainer = AutoTrainer(app.client, reg, app.settings, app_store(app))
    try:
        trainer.start(scheduler)
        items = [operator.import_file(data_dir / photo, ("vcs_face_isTrainingMaterial", "true"),
                                      ("vcs_face_value", name))
                 for photo, name in ((OBAMA, "Barack Obama"), (BIDEN, "Joe Biden"))]
        for item in items:
            operator.add_to_collection(reg.training_collection_id, item)

        job = wait_for(lambda: train_jobs(operator, reg), 60, "an automatic train job")[0]
        assert operator.wait_job(job["jobId"])["status"] == "FINISHED"
        assert all(field_values(operator.metadata(i), "vcs_face_method") == ["TRAINED"] for i in items)
        assert len(train_jobs(operator, reg)) == 1

        trainer.stop()
        assert scheduler.get_job(SCHEDULER_JOB_ID) is None
    finally:
        trainer.stop()
        scheduler.shutdown(wait=True)


def test_character_images_train_their_series_and_face_photos_the_faces(
        start_service: Callable[..., ServiceApp], operator: Operator, data_dir: Path, clock: FakeClock) -> None:
    from vidiplug.engine.character import CharacterEngine

    cascade = data_dir / "lbpcascade_animeface" / "lbpcascade_animeface.xml"
    service = start_service(service__training_collection=f"AutoTrain-{uuid.uuid4().hex[:8]}",
                            service__autotrain_debounce_s=DEBOUNCE_S, characters__cascade=str(cascade))
    reg = registration(service)
    trainer = trainer_for(service, clock)
    upload(operator, data_dir, reg, OBAMA, "Barack Obama")
    anime = data_dir / "sytwu_anime_faces" / "face_dataset"
    for who in ("gura", "ina"):
        image = sorted((anime / who).iterdir())[0]
        item = operator.import_file(image, ("vcs_face_isTrainingMaterial", "true"), ("vcs_face_value", who),
                                    ("adu_av_series", "Holo"))
        operator.add_to_collection(reg.training_collection_id, item)

    tick_past_debounce(trainer, clock)
    (faces,) = train_jobs(operator, reg)  # one run at a time per collection: the faces first
    assert "cognitive_service_AnimationModel" not in job_data(faces)
    assert operator.wait_job(faces["jobId"])["status"] == "FINISHED"
    trainer.tick()  # sees the faces' run end, then asks for the series'
    jobs = train_jobs(operator, reg)
    assert len(jobs) == 2
    series_job = next(job for job in jobs if job["jobId"] != faces["jobId"])
    assert job_data(series_job)["cognitive_service_AnimationModel"] == "Holo"
    assert job_data(series_job)[REASON_KEY] == "2 items added"
    assert operator.wait_job(series_job["jobId"])["status"] == "FINISHED"
    trainer.tick()

    holo = CharacterEngine("Holo", cascade)
    assert {i.name for i in service.store.load_gallery(holo.info, include_unknown=False).identities} == {"gura", "ina"}
    assert trained_names(service) == {"Barack Obama"}  # no character image went into the faces

    # Renaming one character image trains that series again, and only it.
    ina = next(i for i in operator.collection_items(reg.training_collection_id)
               if field_values(operator.metadata(i), "vcs_face_value") == ["ina"])
    operator.set_fields(ina, ("vcs_face_value", "Ninomae Ina'nis"))
    tick_past_debounce(trainer, clock)
    (again,) = [job for job in train_jobs(operator, reg) if job["jobId"] not in {faces["jobId"], series_job["jobId"]}]
    assert job_data(again)["cognitive_service_AnimationModel"] == "Holo"
    assert job_data(again)[REASON_KEY] == "1 item renamed"
