"""Automated training: watch the training collection and start a train job by itself, debounced.

The collection holds two kinds of training material, trained by different runs: face photos,
and character images marked with a series (``adu_av_series``), which a train run with
``cognitive_service_AnimationModel=SERIES`` trains. Each kind (faces, and each series) is a
scope watched on its own: a change to one series' images trains that series, not the faces.

Service room: speaks VidiCore only through VidiCoreClient, keeps its state in the identity
store (shared by every instance on it), and uses apscheduler only to run ``tick`` on an interval.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler

from vidiplug.errors import NotFound, StoreError, VidiplugError
from vidiplug.identity.store import IdentityStore
from vidiplug.service.declaration import (
    MESSAGE_FIELD,
    PARAMETER_FIELD,
    STATUS_FIELD,
    TRAIN_REQUEST_FIELD,
)
from vidiplug.service.params import PREFIX
from vidiplug.service.registration import Registration
from vidiplug.service.reporting import generic_document
from vidiplug.settings import Settings
from vidiplug.vidicore.client import VidiCoreClient
from vidiplug.vidicore.documents import Job, JobState, generic_fields

log = logging.getLogger("vidiplug.service")

AUTOTRAIN_KEY = "vidiplugAutotrain"
"""Job data key (``true``) that marks a train job this module started."""
REASON_KEY = "vidiplugAutotrainReason"
"""Job data key holding why the job was started, e.g. ``2 items added, 1 renamed``."""
SCHEDULER_JOB_ID = "vidiplug-autotrain"
ACTIVE_STATES = tuple(state for state in JobState if not state.is_terminal)
SUCCEEDED = (JobState.FINISHED, JobState.FINISHED_WARNING)
STATE_VERSION = 1
STATE_KEY = "autotrain"
"""Key of the autotrain state in the identity store (``IdentityStore.load_state``)."""
SERIES_FIELD = "adu_av_series"
"""The item field that makes a training item a character image of that series."""
ANIMATION_MODEL_KEY = PREFIX + "AnimationModel"
SCOPE_MARK = "#series:"
"""Joins a collection id and a series into the key of that series' scope (faces: the bare id)."""


@dataclass(frozen=True)
class Material:
    """What training reads from one training item: the person's ``name`` (``vcs_face_value``),
    its ``original`` shapes as (shape id, file URIs) pairs, and the ``series`` of a character
    image ("" for a face photo)."""

    name: str
    shapes: tuple[tuple[str, tuple[str, ...]], ...]
    series: str = ""


Snapshot = Mapping[str, Material]
"""The training material of a collection: item id → Material, for items marked
``vcs_face_isTrainingMaterial=true`` (other members do not change what training does)."""


def describe_changes(before: Snapshot, after: Snapshot) -> str:
    """How ``after`` differs from ``before`` in words: ``"2 items added, 1 renamed"``, or ``"no change"``.

    ``renamed`` counts items whose name changed; ``media changed`` those whose original
    shape or file changed (a new shape, a replaced file).
    """
    common = before.keys() & after.keys()
    counts = (
        (len(after.keys() - before.keys()), "added"),
        (sum(before[i].name != after[i].name for i in common), "renamed"),
        (sum(before[i].shapes != after[i].shapes for i in common), "media changed"),
        (len(before.keys() - after.keys()), "removed"),
    )
    parts = [f"{n} item{'s' if n != 1 else ''} {what}" for n, what in counts if n]
    return ", ".join(parts) if parts else "no change"


def scope_key(collection_id: str, series: str) -> str:
    """The key of one scope: the collection id for faces, ``{id}#series:{series}`` for a series."""
    return f"{collection_id}{SCOPE_MARK}{series}" if series else collection_id


def split_scopes(material: Snapshot) -> dict[str, dict[str, Material]]:
    """The material by scope: series → its items ("" → the face photos)."""
    scopes: dict[str, dict[str, Material]] = {}
    for item_id, entry in material.items():
        scopes.setdefault(entry.series, {})[item_id] = entry
    return scopes


def legacy_state_path(settings: Settings) -> Path | None:
    """Where vidiplug before the shared store kept the autotrain state: ``<store>.autotrain.json``
    beside a SQLite store (None for PostgreSQL). Read once, moved into the store, then deleted."""
    if settings.store.is_postgres():
        return None
    store = settings.store.resolved_path()
    return store.with_name(f"{store.stem}.autotrain.json")


@dataclass(frozen=True)
class TrainingOutcome:
    """Where a training run autotrain started stands: ended yet, succeeded, and why not."""

    ended: bool
    succeeded: bool = False
    reason: str = ""


class TrainLauncher(Protocol):
    """How autotrain asks for a training run and follows it, per integration mode."""

    def start(self, client: VidiCoreClient, collection_id: str, reason: str, series: str = "") -> str:
        """Ask for training on ``collection_id`` (of ``series``' images when given); a handle to follow it."""

    def outcome(self, client: VidiCoreClient, handle: str) -> TrainingOutcome:
        """Where the run ``handle`` stands."""

    def busy(self, client: VidiCoreClient, collection_id: str) -> bool:
        """Whether a training run someone else asked for on ``collection_id`` is still to end."""


class JobLauncher:
    """Bridge mode: a train job addressed to our resource (``POST collection/{id}/train``)."""

    def __init__(self, resource_id: str, callback_id: str | None) -> None:
        self._resource_id = resource_id
        self._callback_id = callback_id

    def start(self, client: VidiCoreClient, collection_id: str, reason: str, series: str = "") -> str:
        """Start the job; its id."""
        data = {AUTOTRAIN_KEY: "true", REASON_KEY: reason}
        if series:
            data[ANIMATION_MODEL_KEY] = series
        return client.start_train(collection_id, self._resource_id, self._callback_id, data).id

    def outcome(self, client: VidiCoreClient, handle: str) -> TrainingOutcome:
        """The job's state: ended when terminal (or gone), succeeded when FINISHED(_WARNING)."""
        job = _job_or_none(client, handle)
        if job is None:
            return TrainingOutcome(True, False, "job is gone")
        if not job.state.is_terminal:
            return TrainingOutcome(False)
        return TrainingOutcome(True, job.state in SUCCEEDED,
                               f"{job.state.value}: {job.failure_reason or 'no reason given'}")

    def busy(self, client: VidiCoreClient, collection_id: str) -> bool:
        """Whether another train job on the collection is active."""
        active = client.list_jobs(self._resource_id, states=ACTIVE_STATES)
        return any(job.data.get("collectionId") == collection_id for job in active)


class RequestFieldLauncher:
    """Direct mode: set ``vidiplug_trainingRequested=true`` on the collection, as an operator would.

    The direct-mode poller runs the training and clears the field, writing FINISHED or
    FAILED to ``vidiplug_status`` in the same change set.
    """

    def start(self, client: VidiCoreClient, collection_id: str, reason: str, series: str = "") -> str:
        """Set the request field (with the job parameters); the handle is the collection id."""
        fields = [(TRAIN_REQUEST_FIELD, "true"), (PARAMETER_FIELD, f"{AUTOTRAIN_KEY}=true")]
        if series:
            fields.append((PARAMETER_FIELD, f"{ANIMATION_MODEL_KEY}={series}"))
        client.put_collection_metadata(collection_id, generic_document(fields))
        return collection_id

    def outcome(self, client: VidiCoreClient, handle: str) -> TrainingOutcome:
        """Ended once the request field is no longer true; succeeded when the status is FINISHED."""
        fields = generic_fields(client.collection_metadata(handle))
        if _first(fields, TRAIN_REQUEST_FIELD) == "true":
            return TrainingOutcome(False)
        status = _first(fields, STATUS_FIELD)
        return TrainingOutcome(True, status == "FINISHED", f"{status}: {_first(fields, MESSAGE_FIELD)}")

    def busy(self, client: VidiCoreClient, collection_id: str) -> bool:
        """Whether training is requested on the collection already."""
        return _first(generic_fields(client.collection_metadata(collection_id)), TRAIN_REQUEST_FIELD) == "true"


def _first(fields: Mapping[str, tuple[str, ...]], name: str) -> str:
    values = fields.get(name, ())
    return values[0] if values else ""


@dataclass
class _Watch:
    """Everything known about one watched collection between ticks (mutable, behind the lock)."""

    trained: dict[str, Material]
    seen: dict[str, Material] | None = None
    changed_at_s: float = 0.0
    job_id: str | None = None
    job_material: dict[str, Material] = field(default_factory=dict)
    failed: dict[str, Material] | None = None


class AutoTrainer:
    """Starts a train job on the training collection when its training material changes.

    ``client_factory`` gives a new VidiCoreClient (one per tick, closed after it).
    ``registration`` names our resource, callback and the watched collection
    (``training_collection_id``). ``settings``: ``service.autotrain_debounce_s`` is the quiet
    period (seconds without a further change) before a job is started, raise it when
    uploads come in slow batches; ``service.poll_interval_s`` is the tick interval of
    ``start``. ``store`` keeps the state (under STATE_KEY; a state file an older version
    left beside a SQLite store is moved into it once). ``clock`` gives seconds
    (monotonic); tests pass a fake one.

    A job is started only when the collection's material differs from what the last
    successful autotraining job was started on (kept in the store across
    restarts; none kept = nothing trained yet), never while a train job on the collection
    is still active, and one job per quiet period however many items changed. A kept state
    rather than "train if no job ever FINISHED" because it also catches changes made while
    the service was down, and a lost state costs one incremental (cheap) job, never a
    missed one.

    Only ``registration.training_collection_id`` is watched, not every collection marked
    ``vcs_face_isTrainingCollection``: a train job makes the store match *its* collection
    (runner ``_train`` removes every other ``vidicore:`` source), so auto-training two
    collections would undo each other. Each tick costs one member list, one item read per
    member and, when a job is due, one job list.
    """

    def __init__(self, client_factory: Callable[[], VidiCoreClient], registration: Registration,
                 settings: Settings, store: IdentityStore, clock: Callable[[], float] = time.monotonic,
                 launcher: TrainLauncher | None = None) -> None:
        self._client_factory = client_factory
        self._registration = registration
        self._launcher = launcher if launcher is not None else launcher_for(registration)
        self._debounce_s = settings.service.autotrain_debounce_s
        self._interval_s = settings.service.poll_interval_s
        self._clock = clock
        self._store = store
        self._lock = threading.Lock()
        self._scheduler: BaseScheduler | None = None
        self._owns_scheduler = False
        saved = _parse_state(_stored_state(store, legacy_state_path(settings)), registration.state_key)
        self._collections = (registration.training_collection_id,)
        # One watch per scope (faces, each series), keyed by scope_key; a series seen before
        # (in the kept state) is watched from the start, so removing all its images trains it too.
        self._watches = {key: _Watch(trained=trained) for key, trained in saved.items()
                         if key.split(SCOPE_MARK, 1)[0] in self._collections}
        for collection_id in self._collections:
            self._watches.setdefault(collection_id, _Watch(trained={}))

    def start(self, scheduler: BaseScheduler | None = None) -> None:
        """Run ``tick`` now and then every ``service.poll_interval_s`` seconds.

        ``scheduler``: a scheduler the caller owns, starts and shuts down (the job is only
        added to it); None = a BackgroundScheduler of our own, started here and shut down
        by ``stop``.
        """
        self._owns_scheduler = scheduler is None
        self._scheduler = scheduler if scheduler is not None else BackgroundScheduler()
        self._scheduler.add_job(self.tick, "interval", seconds=self._interval_s, id=SCHEDULER_JOB_ID,
                                coalesce=True, max_instances=1, next_run_time=datetime.now(UTC))
        if self._owns_scheduler:
            self._scheduler.start()

    def stop(self) -> None:
        """Stop ticking (idempotent); our own scheduler is shut down after a running tick ends."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        if self._owns_scheduler:
            if scheduler.running:
                scheduler.shutdown(wait=True)
        elif scheduler.get_job(SCHEDULER_JOB_ID) is not None:
            scheduler.remove_job(SCHEDULER_JOB_ID)

    def tick(self) -> None:
        """One observation of every watched collection; starts a train job when one is due.

        Never raises: a VidiCore failure is logged and the next tick tries again.
        """
        with self._lock:
            try:
                with self._client_factory() as client:
                    for collection_id in self._collections:
                        self._check_collection(client, collection_id)
            except VidiplugError as exc:
                log.warning("autotrain: cannot check the training collection, trying again: %s", exc)
            except Exception:
                # A bug here must not end the schedule; the traceback goes to the log.
                log.exception("autotrain: internal error, trying again next tick")

    def _check_collection(self, client: VidiCoreClient, collection_id: str) -> None:
        """Observe the collection once, then check each of its scopes (faces first, then series by name)."""
        scopes = split_scopes(_observe(client, collection_id))
        keys = {scope_key(collection_id, series): series for series in scopes}
        for key in self._watches:
            if key == collection_id or key.startswith(collection_id + SCOPE_MARK):
                keys.setdefault(key, key[len(collection_id + SCOPE_MARK):] if key != collection_id else "")
        for key in sorted(keys, key=lambda k: (k != collection_id, k)):
            watch = self._watches.setdefault(key, _Watch(trained={}))
            self._check(client, collection_id, watch, scopes.get(keys[key], {}), keys[key])

    def _check(self, client: VidiCoreClient, collection_id: str, watch: _Watch,
               material: dict[str, Material], series: str) -> None:
        now_s = self._clock()
        if material != watch.seen:
            watch.seen, watch.changed_at_s = material, now_s
        if watch.job_id is not None and not self._settle(client, watch, watch.job_id):
            return
        if material in (watch.trained, watch.failed) or now_s - watch.changed_at_s < self._debounce_s:
            return
        if self._other_training(client, collection_id):
            return  # one training run at a time per collection (ours for another scope too)
        self._start_job(client, collection_id, watch, material, series)

    def _settle(self, client: VidiCoreClient, watch: _Watch, job_id: str) -> bool:
        """Whether our run ``job_id`` has ended; records what a successful one trained on."""
        outcome = self._launcher.outcome(client, job_id)
        if not outcome.ended:
            return False
        if outcome.succeeded:
            watch.trained, watch.failed = watch.job_material, None
            self._save()
        else:
            # Retrying the same material would fail the same way: wait for the next change.
            log.warning("autotrain: training run %s did not succeed (%s); next change trains again",
                        job_id, outcome.reason)
            watch.failed = watch.job_material
        watch.job_id, watch.job_material = None, {}
        return True

    def _other_training(self, client: VidiCoreClient, collection_id: str) -> bool:
        """Whether someone else's training on ``collection_id`` is still to end (wait for it)."""
        return self._launcher.busy(client, collection_id)

    def _start_job(self, client: VidiCoreClient, collection_id: str, watch: _Watch,
                   material: dict[str, Material], series: str) -> None:
        reason = describe_changes(watch.trained, material)
        handle = self._launcher.start(client, collection_id, reason, series)
        watch.job_id, watch.job_material = handle, material
        what = f"series {series!r}" if series else "faces"
        log.info("autotrain: asked for training (%s) of %s on collection %s: %s", handle, what, collection_id, reason)

    def _save(self) -> None:
        trained = {key: watch.trained for key, watch in self._watches.items()}
        try:
            self._store.save_state(STATE_KEY, _state_text(self._registration.state_key, trained))
        except StoreError as exc:
            log.warning("autotrain: cannot save the state (a restart trains once more): %s", exc)


def launcher_for(registration: Registration) -> TrainLauncher:
    """The launcher of ``registration``'s mode."""
    if registration.mode == "direct" or registration.resource_id is None:
        return RequestFieldLauncher()
    return JobLauncher(registration.resource_id, registration.callback_id)


def _observe(client: VidiCoreClient, collection_id: str) -> dict[str, Material]:
    """The collection's training material as the train job would read it (one call per member)."""
    material: dict[str, Material] = {}
    for item_id in client.collection_items(collection_id):
        try:
            item = client.get_item(item_id, content=("metadata", "shape"), tag="original")
        except NotFound:
            continue  # deleted since the member list was read: it has left the collection
        if item.field("vcs_face_isTrainingMaterial") != "true":
            continue
        shapes = tuple(sorted((shape.id, tuple(shape.uris)) for shape in item.shapes))
        series = (item.field(SERIES_FIELD) or "").strip()
        material[item_id] = Material(item.field("vcs_face_value") or "", shapes, series)
    return material


def _job_or_none(client: VidiCoreClient, job_id: str) -> Job | None:
    try:
        return client.get_job(job_id)
    except NotFound:
        return None


def _stored_state(store: IdentityStore, legacy: Path | None) -> str | None:
    """The state text kept in ``store``; a legacy side file is moved into the store first (once)."""
    text = store.load_state(STATE_KEY)
    if text is not None or legacy is None or not legacy.is_file():
        return text
    try:
        text = legacy.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("autotrain: ignoring unreadable %s (the next tick trains once): %s", legacy, exc)
        return None
    store.save_state(STATE_KEY, text)
    try:
        legacy.unlink()
    except OSError as exc:
        log.warning("autotrain: moved %s into the identity store but cannot delete it: %s", legacy, exc)
    log.info("autotrain: moved the state in %s into the identity store", legacy)
    return text


def _parse_state(text: str | None, resource_id: str) -> dict[str, dict[str, Material]]:
    """The material last trained per scope key (``scope_key``); {} when none is kept, unreadable or not ours."""
    if text is None:
        return {}
    try:
        doc = json.loads(text)
        if doc["version"] != STATE_VERSION or doc["resourceId"] != resource_id:
            return {}
        return {cid: {iid: _material(entry) for iid, entry in items.items()}
                for cid, items in doc["collections"].items()}
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        log.warning("autotrain: ignoring a malformed state (the next tick trains once): %r", exc)
        return {}


def _material(entry: Any) -> Material:
    shapes = tuple((str(sid), tuple(str(u) for u in uris)) for sid, uris in entry["shapes"])
    return Material(str(entry["name"]), shapes, str(entry.get("series", "")))


def _state_text(resource_id: str, trained: Mapping[str, Snapshot]) -> str:
    """The state as JSON text (one document, written in one store transaction)."""
    doc = {"version": STATE_VERSION, "resourceId": resource_id, "collections": {
        key: {iid: {"name": m.name, "shapes": [[sid, list(uris)] for sid, uris in m.shapes], "series": m.series}
              for iid, m in items.items()} for key, items in trained.items()}}
    return json.dumps(doc, indent=1, sort_keys=True)
