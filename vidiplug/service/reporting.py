"""Reporters: where a run's progress and outcome go, sent to VidiCore through transient failures.

JobReporter (bridge mode) reports on the claimed VidiCore job; RequestStatus (direct mode)
writes the status fields of the requested item or collection. Service room. A VidiCore blip
of a few seconds costs a job nothing: each call is retried
(RetryPolicy); only an outage longer than the policy's window gives up on the job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from vidiplug.errors import Conflict
from vidiplug.service.declaration import MESSAGE_FIELD, PROGRESS_FIELD, RUN_FIELD, STATUS_FIELD
from vidiplug.service.retries import RetryPolicy, with_retries
from vidiplug.vidicore.client import VidiCoreClient
from vidiplug.vidicore.documents import JobState

# States a job handed back (VIDINET_JOB) moves on to once VidiCore ran its callbacks.
AFTER_HAND_BACK = frozenset({JobState.FINISHED, JobState.FINISHED_WARNING, JobState.FAILED_TOTAL})

MAX_MESSAGE_CHARS = 1000  # a failure reason shown on an item stays readable


class Reporter(Protocol):
    """What a job handler tells about its run: progress, then one outcome."""

    policy: RetryPolicy

    def progress(self, percent: float, description: str = "") -> None:
        """Report ``percent`` (0-100) done, with what is being done."""

    def status(self, state: JobState | str, reason: str | None = None, callback_id: str | None = None) -> None:
        """End the run with ``state`` (FINISHED, FAILED_TOTAL, or VIDINET_JOB in bridge mode) and ``reason``."""


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


OUTCOMES = {JobState.FINISHED: "FINISHED", JobState.FINISHED_WARNING: "FINISHED", JobState.FAILED_TOTAL: "FAILED"}


class RequestStatus:
    """Direct mode's reporter: status fields on the requested item or collection (generic metadata).

    ``write(fields)`` writes one MetadataDocument of (name, value) pairs to the target, e.g.
    ``lambda fields: client.put_item_metadata(item_id, generic_document(fields))``. Fields:
    ``vidiplug_status`` (RUNNING, FINISHED or FAILED), ``vidiplug_progress`` (percent),
    ``vidiplug_message`` (what is being done, or why it failed) and ``vidiplug_runId``
    (the folder of the run's CallbackDocuments). ``on_end``: fields written with the outcome
    (e.g. clearing a request field), in the same change set.
    """

    def __init__(self, write: Callable[[list[tuple[str, str]]], None], run_id: str, policy: RetryPolicy,
                 what: str, on_end: list[tuple[str, str]] | None = None) -> None:
        self.policy = policy
        self._write = write
        self._run_id = run_id
        self._what = what
        self._on_end = list(on_end or [])
        self.outcome: str | None = None

    def progress(self, percent: float, description: str = "") -> None:
        """Write RUNNING, ``percent`` and ``description`` to the target."""
        self._send([(STATUS_FIELD, "RUNNING"), (PROGRESS_FIELD, f"{max(0.0, min(100.0, percent)):.1f}"),
                    (MESSAGE_FIELD, description), (RUN_FIELD, self._run_id)])

    def status(self, state: JobState | str, reason: str | None = None, callback_id: str | None = None) -> None:
        """Write FINISHED or FAILED and ``reason`` (``callback_id`` is unused: no hand-back in direct mode)."""
        wanted = JobState(state)
        outcome = OUTCOMES.get(wanted)
        if outcome is None:
            raise ValueError(f"direct mode cannot end a run as {wanted.value}")
        message = (reason or ("done" if outcome == "FINISHED" else "failed"))[:MAX_MESSAGE_CHARS]
        fields = [(STATUS_FIELD, outcome), (MESSAGE_FIELD, message), (RUN_FIELD, self._run_id)]
        if outcome == "FINISHED":
            fields.append((PROGRESS_FIELD, "100.0"))
        self._send(fields + self._on_end)
        self.outcome = outcome

    def _send(self, fields: list[tuple[str, str]]) -> None:
        with_retries(self.policy, f"writing the status of {self._what}", lambda: self._write(fields))


def generic_document(fields: list[tuple[str, str]]) -> dict[str, object]:
    """A MetadataDocument (JSON form) setting each (name, value) in the -INF..+INF timespan; a name
    given more than once is one field with those values, in order."""
    values: dict[str, list[dict[str, str]]] = {}
    for name, value in fields:
        values.setdefault(name, []).append({"value": value})
    return {"timespan": [{"start": "-INF", "end": "+INF",
                          "field": [{"name": name, "value": listed} for name, listed in values.items()]}]}
