"""Find and claim jobs addressed to our resource, run at most N at once (apscheduler + a thread pool).

Claims are atomic on the VidiCore side, so several service instances can poll one
VidiCore and never run the same job. A job this instance had claimed before it was
killed is picked up again on start.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler

from vidiplug.errors import JobAlreadyClaimed, VidiCoreError
from vidiplug.service.runner import JobContext, run_job
from vidiplug.vidicore.documents import Job

log = logging.getLogger("vidiplug.service")


class JobPoller:
    """Polls every ``poll_interval_s`` seconds and keeps up to ``workers`` jobs running."""

    def __init__(self, context: JobContext, resource_id: str) -> None:
        self._context = context
        self._resource_id = resource_id
        service = context.settings.service
        self._interval_s = service.poll_interval_s
        self._slots = threading.BoundedSemaphore(service.workers)
        self._pool = ThreadPoolExecutor(max_workers=service.workers, thread_name_prefix="vidiplug-job")
        self._scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1})
        self._lock = threading.Lock()
        self.running: set[str] = set()
        self.finished: list[str] = []

    def start(self) -> None:
        """Resume our own interrupted jobs, then poll on a schedule (first poll right away)."""
        self.recover()
        self._scheduler.add_job(self.poll_once, "interval", seconds=self._interval_s,
                                next_run_time=datetime.now(timezone.utc), id="poll")
        self._scheduler.start()

    def stop(self, wait: bool = True) -> None:
        """Stop polling; with ``wait``, let running jobs finish."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def recover(self) -> int:
        """Run again the jobs this instance claimed but never handed back (it was killed mid-job)."""
        try:
            with self._context.client_factory() as client:
                started = client.list_jobs(self._resource_id, states=("STARTED",))
        except VidiCoreError as exc:
            log.warning("cannot list interrupted jobs: %s", exc)
            return 0
        mine = [job for job in started if job.data.get("claimedBy") == self._context.instance]
        for job in mine:
            log.info("job %s was interrupted by a restart; running it again", job.id)
            self._slots.acquire()
            self._submit(job)
        return len(mine)

    def poll_once(self) -> int:
        """Claim and start as many READY jobs as there are free slots; returns how many started."""
        started = 0
        try:
            with self._context.client_factory() as client:
                for job in client.list_jobs(self._resource_id, states=("READY",)):
                    if not self._slots.acquire(blocking=False):
                        break
                    try:
                        claimed = client.claim_job(job.id, self._resource_id, self._context.instance)
                    except JobAlreadyClaimed:
                        self._slots.release()
                        continue
                    except VidiCoreError as exc:
                        self._slots.release()
                        log.warning("cannot claim job %s: %s", job.id, exc)
                        continue
                    self._submit(claimed)
                    started += 1
        except VidiCoreError as exc:
            log.warning("polling VidiCore failed: %s", exc)
        return started

    def _submit(self, job: Job) -> None:
        with self._lock:
            self.running.add(job.id)
        self._pool.submit(self._run, job)

    def _run(self, job: Job) -> None:
        try:
            log.info("job %s (%s) started", job.id, job.type)
            run_job(self._context, job)
        finally:
            with self._lock:
                self.running.discard(job.id)
                self.finished.append(job.id)
            self._slots.release()
