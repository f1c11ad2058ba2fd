"""Find and claim jobs addressed to our resource, run at most N at once (apscheduler + a thread pool).

Claims are atomic on the VidiCore side, so several service instances can poll one
VidiCore and never run the same job. No claimed job is left STARTED forever: a heartbeat
keeps our running jobs' step timestamps fresh, and a job whose timestamp stops moving for
``claim_timeout_s`` (its instance died) is taken over and run again, or failed once it has
had MAX_ATTEMPTS tries. A job this instance had claimed before it was killed is taken
back on start.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from vidiplug.errors import Conflict, JobAlreadyClaimed, VidiCoreError
from vidiplug.service.runner import JobContext, run_job
from vidiplug.service.scheduler_logs import quiet_scheduler_logs
from vidiplug.vidicore.client import VidiCoreClient
from vidiplug.vidicore.documents import Job, JobState

log = logging.getLogger("vidiplug.service")


class _SkippedOverlapFilter(logging.Filter):
    """Drop apscheduler's warning that a poll was skipped because the previous one still runs.

    Polls are scheduled with ``max_instances=1`` on purpose: a slow VidiCore makes a poll
    outlast the interval, and skipping the overlapping one is the intended behaviour, not
    something an operator should be warned about every few seconds.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


logging.getLogger("apscheduler.scheduler").addFilter(_SkippedOverlapFilter())

MAX_ATTEMPTS = 3
"""A job claimed this many times that goes quiet again is failed, not run again: a job
whose media kills the service would otherwise take down every instance in turn, forever."""

HEARTBEATS_PER_TIMEOUT = 4
"""Heartbeat ticks per ``claim_timeout_s``. A tick skips a job whose runner reported since
the last tick, so the longest silence is two ticks: half the timeout, leaving room for slow calls."""


class JobPoller:
    """Polls every ``poll_interval_s`` seconds and keeps up to ``workers`` jobs running.

    ``running`` holds the ids of the jobs this poller runs now, ``finished`` those it ran
    (in the order they ended), for tests and status pages.
    """

    def __init__(self, context: JobContext, resource_id: str) -> None:
        self._context = context
        self._resource_id = resource_id
        service = context.settings.service
        self._interval_s = service.poll_interval_s
        self._claim_timeout_s = service.claim_timeout_s
        self._slots = threading.BoundedSemaphore(service.workers)
        self._pool = ThreadPoolExecutor(max_workers=service.workers, thread_name_prefix="vidiplug-job")
        self._scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1})
        self._lock = threading.Lock()  # guards running, finished, _beats and _stopping
        self._stopping = False
        self._beats: dict[str, datetime | None] = {}  # job id -> step timestamp at the last heartbeat tick
        self._orphans: set[str] = set()  # our own claims from before a restart (poll thread only)
        self.running: set[str] = set()
        self.finished: list[str] = []
        self.last_poll_unix_s: float | None = None  # when a poll last reached VidiCore

    def running_jobs(self) -> list[str]:
        """The ids of the jobs running now, sorted (a copy, safe to read from any thread)."""
        with self._lock:
            return sorted(self.running)

    def start(self) -> None:
        """Find our own interrupted jobs, then poll (first poll right away) and send heartbeats."""
        quiet_scheduler_logs()
        self.recover()
        self._scheduler.add_job(self.poll_once, "interval", seconds=self._interval_s,
                                next_run_time=datetime.now(UTC), id="poll")
        self._scheduler.add_job(self.heartbeat_once, "interval", id="heartbeat",
                                seconds=self._claim_timeout_s / HEARTBEATS_PER_TIMEOUT)
        self._scheduler.start()

    def stop(self, wait: bool = True) -> None:
        """Stop claiming jobs; with ``wait``, let running jobs finish (heartbeats go on meanwhile)."""
        with self._lock:
            self._stopping = True
        if self._scheduler.running and self._scheduler.get_job("poll") is not None:
            self._scheduler.remove_job("poll")
        # Jobs still running need their heartbeat, or another instance takes them over.
        self._pool.shutdown(wait=wait, cancel_futures=True)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def recover(self) -> int:
        """Note the jobs this instance claimed but never handed back (it was killed mid-job); how many.

        The polls take them over at once (no waiting for ``claim_timeout_s``: they are ours,
        and we just started), so they count as attempts and run as slots allow.
        """
        try:
            with self._context.client_factory() as client:
                started = client.list_jobs(self._resource_id, states=("STARTED",))
        except VidiCoreError as exc:
            log.warning("cannot list interrupted jobs: %s", exc)
            return 0
        mine = [job.id for job in started if job.data.get("claimedBy") == self._context.instance]
        for job_id in mine:
            log.info("job %s was interrupted by a restart; taking it back", job_id)
        self._orphans.update(mine)
        return len(mine)

    def poll_once(self) -> int:
        """Take over abandoned jobs, then claim READY ones, as slots allow; returns how many started."""
        started = 0
        try:
            with self._context.client_factory() as client:
                started += self._take_over_abandoned(client)
                started += self._claim_ready(client)
            self.last_poll_unix_s = time.time()
            self._context.metrics.poll_succeeded(self.last_poll_unix_s)
        except VidiCoreError as exc:
            self._context.metrics.error("poll", exc)
            log.warning("polling VidiCore failed: %s", exc)
        return started

    def heartbeat_once(self) -> int:
        """Re-report the progress of each running job that reported nothing since the last tick; how many.

        The value and description re-sent are the job's own, read back from VidiCore, so a
        heartbeat only refreshes the step timestamp. A failed heartbeat is logged; the job runs on.
        """
        with self._lock:
            running = sorted(self.running)
        sent = 0
        if not running:
            return sent
        with self._context.client_factory() as client:
            for job_id in running:
                try:
                    sent += self._beat(client, job_id)
                except VidiCoreError as exc:
                    self._context.metrics.error("heartbeat", exc)
                    log.warning("heartbeat for job %s failed: %s", job_id, exc)
        return sent

    def _beat(self, client: VidiCoreClient, job_id: str) -> int:
        job = client.get_job(job_id)
        if job.state is not JobState.STARTED or job.data.get("claimedBy") != self._context.instance:
            if job.state is JobState.STARTED:
                log.warning("job %s was taken over by %s while we ran it", job_id, job.data.get("claimedBy"))
            return 0
        with self._lock:
            if job_id not in self.running:
                return 0
            unchanged = job_id in self._beats and self._beats[job_id] == job.step_timestamp
            self._beats[job_id] = job.step_timestamp
        if not unchanged:
            return 0  # the runner reported since the last tick (or the job is new): no need
        try:
            beaten = client.report_progress(job_id, self._context.instance, job.progress_percent or 0.0,
                                            description=job.step_description)
        except Conflict as exc:  # handed back or ended between our two calls
            log.debug("no heartbeat for job %s: %s", job_id, exc)
            return 0
        with self._lock:
            if job_id in self._beats:
                self._beats[job_id] = beaten.step_timestamp
        return 1

    def _take_over_abandoned(self, client: VidiCoreClient) -> int:
        """Run again (or fail, after MAX_ATTEMPTS) the STARTED jobs nobody reports progress on."""
        listed = client.list_jobs(self._resource_id, states=("STARTED",))
        self._orphans &= {job.id for job in listed}
        now = datetime.now(UTC)
        started = 0
        for job in listed:
            with self._lock:
                if job.id in self.running or self._stopping:
                    continue
            # Our own claims from before a restart are abandoned for sure; others once quiet
            # for the timeout. VidiCore checks the age again (its clock, under its lock) on the
            # claim: a clock ahead of VidiCore's costs refused claims, one behind delays takeovers.
            orphan = job.id in self._orphans
            stale_after_s = 0.0 if orphan else self._claim_timeout_s
            if not orphan and job.step_timestamp is not None \
                    and (now - job.step_timestamp).total_seconds() < stale_after_s:
                continue
            if job.attempts >= MAX_ATTEMPTS:
                self._give_up(client, job, stale_after_s)
            elif self._slots.acquire(blocking=False) and self._claim(client, job, stale_after_s):
                started += 1
        return started

    def _give_up(self, client: VidiCoreClient, job: Job, stale_after_s: float) -> None:
        try:
            claimed = client.claim_job(job.id, self._resource_id, self._context.instance, stale_after_s=stale_after_s)
        except JobAlreadyClaimed:
            return
        except VidiCoreError as exc:
            log.warning("cannot take over abandoned job %s: %s", job.id, exc)
            return
        self._orphans.discard(job.id)
        reason = (f"abandoned by instance {claimed.data.get('previousClaimedBy') or 'unknown'} after "
                  f"{claimed.attempts - 1} attempts: each one stopped reporting progress, so it is not "
                  f"run again (the job may be what stops the service)")
        log.warning("job %s: %s", job.id, reason)
        try:
            client.set_job_status(job.id, self._context.instance, "FAILED_TOTAL", reason=reason)
        except VidiCoreError as exc:
            log.warning("cannot fail abandoned job %s: %s", job.id, exc)

    def _claim_ready(self, client: VidiCoreClient) -> int:
        started = 0
        for job in client.list_jobs(self._resource_id, states=("READY",)):
            with self._lock:
                if self._stopping:
                    break
            if not self._slots.acquire(blocking=False):
                break
            if self._claim(client, job, None):
                started += 1
        return started

    def _claim(self, client: VidiCoreClient, job: Job, stale_after_s: float | None) -> bool:
        """Claim ``job`` (a slot is held) and run it; False, with the slot released, if we did not get it."""
        try:
            claimed = client.claim_job(job.id, self._resource_id, self._context.instance, stale_after_s=stale_after_s)
        except JobAlreadyClaimed:
            self._slots.release()
            return False
        except VidiCoreError as exc:
            self._slots.release()
            log.warning("cannot claim job %s: %s", job.id, exc)
            return False
        if stale_after_s is not None:
            self._orphans.discard(job.id)
            log.info("job %s: took it over from %s (attempt %d)", job.id,
                     claimed.data.get("previousClaimedBy") or "unknown", claimed.attempts)
        if not self._submit(claimed):
            self._slots.release()
            log.info("job %s claimed while stopping; left for recovery", job.id)
            return False
        return True

    def _submit(self, job: Job) -> bool:
        # Under the lock with the _stopping check: nothing is submitted once stop() shuts the pool.
        with self._lock:
            if self._stopping:
                return False
            self.running.add(job.id)
            self._pool.submit(self._run, job)
        return True

    def _run(self, job: Job) -> None:
        metrics, started, outcome = self._context.metrics, time.monotonic(), "lost"
        metrics.job_started()
        try:
            log.info("job %s (%s) started", job.id, job.type)
            outcome = run_job(self._context, job)
        except Conflict as exc:
            log.warning("job %s is no longer ours (taken over by another instance?): %s", job.id, exc)
        except VidiCoreError as exc:
            log.warning("job %s: cannot report to VidiCore (left for recovery): %s", job.id, exc)
        except Exception:
            # The pool keeps a worker's exception in a future nobody reads: log it here or never.
            log.exception("job %s: the worker failed outside the job's own error handling", job.id)
        finally:
            metrics.job_ended(job.type, outcome, time.monotonic() - started)
            with self._lock:
                self.running.discard(job.id)
                self._beats.pop(job.id, None)
                self.finished.append(job.id)
            self._slots.release()
