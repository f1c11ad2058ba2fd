"""RequestPoller: direct mode's job loop: find requests, claim them in the identity store, run them.

Every ``poll_interval_s`` it lists the analysis queue and reads the training collection's
request field (documented calls only: ``GET collection/{id}/item``, ``GET
collection/{id}/metadata``). A request is claimed in the identity store every instance
shares (``IdentityStore.claim_work``), so of several instances on one VidiCore exactly one
runs it; a heartbeat renews the claims of running requests, and a claim that stops being
renewed for ``claim_timeout_s`` (its instance died) is taken over, or failed with a reason
after MAX_ATTEMPTS. When a run ends, the analysed item leaves the queue (or the training
request field is cleared in the same change set as the outcome), then the claim is released.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from vidiplug.errors import NotFound, StoreError, VidiCoreError, VidiplugError
from vidiplug.identity.store import WorkClaim
from vidiplug.service.declaration import (
    ANALYZE_JOB_TYPE,
    PARAMETER_FIELD,
    TRAIN_JOB_TYPE,
    TRAIN_REQUEST_FIELD,
)
from vidiplug.service.poller import HEARTBEATS_PER_TIMEOUT, MAX_ATTEMPTS
from vidiplug.service.registration import Registration
from vidiplug.service.reporting import Reporter, RequestStatus, generic_document
from vidiplug.service.requests import request_job, request_parameters, run_id
from vidiplug.service.retries import RetryPolicy, with_retries
from vidiplug.service.runner import JobContext, run_job
from vidiplug.service.scheduler_logs import quiet_scheduler_logs
from vidiplug.vidicore.client import VidiCoreClient
from vidiplug.vidicore.documents import Job, generic_fields

log = logging.getLogger("vidiplug.service")


class RequestPoller:
    """Polls every ``poll_interval_s`` seconds and keeps up to ``workers`` requests running.

    ``running`` holds the claim keys (``analyze:VX-12``, ``train:VX-3``) of the runs going
    on now, ``finished`` those that ended, in order, for tests and status pages.
    """

    def __init__(self, context: JobContext, registration: Registration) -> None:
        if registration.queue_collection_id is None:
            raise ValueError("direct mode needs the analysis queue collection")
        self._context = context
        self._queue_id = registration.queue_collection_id
        self._training_id = registration.training_collection_id
        service = context.settings.service
        self._interval_s = service.poll_interval_s
        self._claim_timeout_s = service.claim_timeout_s
        self._policy = RetryPolicy.from_settings(service)
        self._slots = threading.BoundedSemaphore(service.workers)
        self._pool = ThreadPoolExecutor(max_workers=service.workers, thread_name_prefix="vidiplug-run")
        self._scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1})
        self._lock = threading.Lock()  # guards running, finished and _stopping
        self._stopping = False
        self.running: set[str] = set()
        self.finished: list[str] = []
        self.last_poll_unix_s: float | None = None

    def running_jobs(self) -> list[str]:
        """The claim keys of the runs going on now, sorted (a copy, safe from any thread)."""
        with self._lock:
            return sorted(self.running)

    def start(self) -> None:
        """Poll now and then every ``poll_interval_s``; renew running claims on a heartbeat."""
        quiet_scheduler_logs()
        self._scheduler.add_job(self.poll_once, "interval", seconds=self._interval_s,
                                next_run_time=datetime.now(UTC), id="poll")
        self._scheduler.add_job(self.heartbeat_once, "interval", id="heartbeat",
                                seconds=self._claim_timeout_s / HEARTBEATS_PER_TIMEOUT)
        self._scheduler.start()

    def stop(self, wait: bool = True) -> None:
        """Stop taking requests; with ``wait``, let running ones finish (their claims are renewed meanwhile)."""
        with self._lock:
            self._stopping = True
        if self._scheduler.running and self._scheduler.get_job("poll") is not None:
            self._scheduler.remove_job("poll")
        self._pool.shutdown(wait=wait, cancel_futures=True)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def poll_once(self) -> int:
        """Claim and start the requests that slots allow; how many started."""
        started = 0
        try:
            with self._context.client_factory() as client:
                started += self._analysis_requests(client)
                started += self._training_request(client)
            self.last_poll_unix_s = time.time()
            self._context.metrics.poll_succeeded(self.last_poll_unix_s)
        except (VidiCoreError, StoreError) as exc:
            self._context.metrics.error("poll", exc)
            log.warning("looking for requests failed: %s", exc)
        return started

    def heartbeat_once(self) -> int:
        """Renew the claim of every running request; how many were renewed."""
        renewed = 0
        for key in self.running_jobs():
            try:
                if self._context.store.renew_work(key, self._context.instance):
                    renewed += 1
                else:
                    log.warning("%s was taken over by another instance while this one ran it", key)
            except StoreError as exc:
                self._context.metrics.error("heartbeat", exc)
                log.warning("cannot renew the claim on %s: %s", key, exc)
        return renewed

    def _analysis_requests(self, client: VidiCoreClient) -> int:
        started = 0
        for item_id in client.collection_items(self._queue_id):
            key = f"analyze:{item_id}"
            if not self._can_start(key):
                break
            claim = self._claim(key)
            if claim is None:
                continue
            # Another instance may have finished it, and taken it out of the queue, just now.
            if item_id not in client.collection_items(self._queue_id):
                self._release(key)
                continue
            started += self._start(key, claim, functools.partial(self._run_analysis, item_id, key))
        return started

    def _training_request(self, client: VidiCoreClient) -> int:
        if not self._requested(client):
            return 0
        key = f"train:{self._training_id}"
        if not self._can_start(key):
            return 0
        claim = self._claim(key)
        if claim is None:
            return 0
        if not self._requested(client):  # another instance ran it and cleared the field just now
            self._release(key)
            return 0
        return self._start(key, claim, lambda: self._run_training(key))

    def _requested(self, client: VidiCoreClient) -> bool:
        fields = generic_fields(client.collection_metadata(self._training_id))
        return fields.get(TRAIN_REQUEST_FIELD, ("",))[0] == "true"

    def _can_start(self, key: str) -> bool:
        """Whether ``key`` is not ours already and a slot is free (then held for it)."""
        with self._lock:
            if self._stopping or key in self.running:
                return False
        return self._slots.acquire(blocking=False)

    def _claim(self, key: str) -> WorkClaim | None:
        """Claim ``key`` in the store (a slot is held); None, with the slot released, when another instance has it."""
        try:
            claim = self._context.store.claim_work(key, self._context.instance, self._claim_timeout_s)
        except StoreError:
            self._slots.release()
            raise
        if claim is None:
            self._slots.release()
        elif claim.previous_instance is not None:
            log.info("%s: took it over from %s (attempt %d)", key, claim.previous_instance, claim.attempts)
        return claim

    def _start(self, key: str, claim: WorkClaim, run: Callable[[], None]) -> int:
        """Run ``run`` in the pool (or fail the request after MAX_ATTEMPTS); 1 if it started."""
        if claim.attempts > MAX_ATTEMPTS:
            self._slots.release()
            self._give_up(key, claim)
            return 0
        with self._lock:
            if self._stopping:
                self._slots.release()
                self._release(key)
                return 0
            self.running.add(key)
            self._pool.submit(self._guarded, key, run)
        return 1

    def _give_up(self, key: str, claim: WorkClaim) -> None:
        reason = (f"abandoned by instance {claim.previous_instance or 'unknown'} after {claim.attempts - 1} "
                  f"attempts: each one stopped renewing its claim, so it is not run again "
                  f"(the request may be what stops the service)")
        log.warning("%s: %s", key, reason)
        kind, _, target = key.partition(":")
        try:
            with self._context.client_factory() as client:
                if kind == "analyze":
                    self._status_of_item(client, target, run_id(kind, target)).status("FAILED_TOTAL", reason)
                    self._leave_queue(client, target)
                else:
                    self._status_of_training(client, run_id(kind, target)).status("FAILED_TOTAL", reason)
        except VidiplugError as exc:
            log.warning("cannot fail %s: %s", key, exc)
            return
        self._release(key)

    def _guarded(self, key: str, run: Callable[[], None]) -> None:
        metrics, started, outcome = self._context.metrics, time.monotonic(), "lost"
        metrics.job_started()
        try:
            run()
            outcome = "handed_back"
        except VidiplugError as exc:
            log.warning("%s: left for another try: %s", key, exc)
        except Exception:
            log.exception("%s: the worker failed outside the run's own error handling", key)
        finally:
            metrics.job_ended(key.partition(":")[0], outcome, time.monotonic() - started)
            with self._lock:
                self.running.discard(key)
                self.finished.append(key)
            self._slots.release()

    def _run_analysis(self, item_id: str, key: str) -> None:
        run = run_id("analyze", item_id)
        with self._context.client_factory() as client:
            item = client.get_item(item_id, content=("metadata",))
            status = self._status_of_item(client, item_id, run)
            job = self._job_or_fail(status, run, ANALYZE_JOB_TYPE, {"itemId": item_id},
                                    item.fields.get(PARAMETER_FIELD, ()))
        if job is not None:
            log.info("%s: analysing item %s (run %s)", key, item_id, run)
            run_job(self._context, job, reporter=lambda c: self._status_of_item(c, item_id, run))
        with self._context.client_factory() as client:
            self._leave_queue(client, item_id)
        self._release(key)

    def _run_training(self, key: str) -> None:
        run = run_id("train", self._training_id)
        with self._context.client_factory() as client:
            fields = generic_fields(client.collection_metadata(self._training_id))
            status = self._status_of_training(client, run)
            job = self._job_or_fail(status, run, TRAIN_JOB_TYPE, {"collectionId": self._training_id},
                                    fields.get(PARAMETER_FIELD, ()))
        if job is not None:
            log.info("%s: training on collection %s (run %s)", key, self._training_id, run)
            run_job(self._context, job, reporter=lambda c: self._status_of_training(c, run))
        self._release(key)

    def _job_or_fail(self, status: Reporter, run: str, job_type: str, data: dict[str, str],
                     values: tuple[str, ...]) -> Job | None:
        """The request's Job; None, with the request failed naming the parameter, when its parameters are bad."""
        try:
            return request_job(run, job_type, data, request_parameters(values))
        except VidiplugError as exc:
            log.warning("run %s refused: %s", run, exc)
            status.status("FAILED_TOTAL", reason=str(exc))
            return None

    def _status_of_item(self, client: VidiCoreClient, item_id: str, run: str) -> RequestStatus:
        return RequestStatus(lambda fields: client.put_item_metadata(item_id, generic_document(fields)),
                             run, self._policy, f"item {item_id}")

    def _status_of_training(self, client: VidiCoreClient, run: str) -> RequestStatus:
        collection = self._training_id
        return RequestStatus(lambda fields: client.put_collection_metadata(collection, generic_document(fields)),
                             run, self._policy, f"collection {collection}", on_end=[(TRAIN_REQUEST_FIELD, "false")])

    def _leave_queue(self, client: VidiCoreClient, item_id: str) -> None:
        with contextlib.suppress(NotFound):  # taken out already (by an operator, or an earlier try)
            with_retries(self._policy, f"taking item {item_id} out of the analysis queue",
                         lambda: client.remove_from_collection(self._queue_id, item_id))

    def _release(self, key: str) -> None:
        try:
            self._context.store.release_work(key, self._context.instance)
        except StoreError as exc:
            log.warning("cannot release the claim on %s (it expires after claim_timeout_s): %s", key, exc)
