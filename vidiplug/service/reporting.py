"""JobReporter: a claimed job's progress and final status, sent to VidiCore through transient failures.

Service room. A VidiCore blip of a few seconds costs a job nothing: each call is retried
(RetryPolicy); only an outage longer than the policy's window gives up on the job.
"""

from __future__ import annotations

from vidiplug.errors import Conflict
from vidiplug.service.retries import RetryPolicy, with_retries
from vidiplug.vidicore.client import VidiCoreClient
from vidiplug.vidicore.documents import JobState

# States a job handed back (VIDINET_JOB) moves on to once VidiCore ran its callbacks.
AFTER_HAND_BACK = frozenset({JobState.FINISHED, JobState.FINISHED_WARNING, JobState.FAILED_TOTAL})


class JobReporter:
    """Reports on job ``job_id``, claimed by ``instance``, through ``client``.

    Every call is retried under ``policy`` while VidiCore is unavailable, then raises
    VidiCoreUnavailable; Conflict (the job is not ours, or no longer STARTED) is raised at
    once, except when a retried status call finds that its lost first attempt did arrive.
    """

    def __init__(self, client: VidiCoreClient, job_id: str, instance: str, policy: RetryPolicy) -> None:
        self.policy = policy
        self._client = client
        self._job_id = job_id
        self._instance = instance

    def progress(self, percent: float, description: str = "") -> None:
        """Report ``percent`` (0-100) done; ``description`` replaces the step's text when not empty."""
        with_retries(self.policy, f"progress report of job {self._job_id}",
                     lambda: self._client.report_progress(self._job_id, self._instance, percent,
                                                          description=description))

    def status(self, state: JobState | str, reason: str | None = None, callback_id: str | None = None) -> None:
        """End our part of the job with ``state`` (VIDINET_JOB, FINISHED, FAILED_TOTAL ...) and ``reason``.

        ``callback_id``: for VIDINET_JOB, the callback resource the scripts were written to.
        """
        wanted = JobState(state)
        attempts = [0]

        def send() -> None:
            attempts[0] += 1
            try:
                self._client.set_job_status(self._job_id, self._instance, wanted, reason=reason,
                                            callback_id=callback_id)
            except Conflict:
                # An earlier attempt may have arrived and only its answer got lost.
                if attempts[0] == 1 or not self._already(wanted):
                    raise

        with_retries(self.policy, f"setting job {self._job_id} to {wanted.value}", send)

    def _already(self, wanted: JobState) -> bool:
        """True when the job, still claimed by us, is in ``wanted`` (or past it, for a hand-back)."""
        job = self._client.get_job(self._job_id)
        if job.data.get("claimedBy") != self._instance:
            return False
        return job.state is wanted or (wanted is JobState.VIDINET_JOB and job.state in AFTER_HAND_BACK)
