"""Job calls: find, claim, report on and end jobs, and start analyze/train jobs.

Part of VidiCoreClient; speaks HTTP only through Transport. The claim/progress/status
calls are mock_vidicore's VidiNet-style service protocol (see mock_vidicore/README.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from vidiplug.errors import Conflict, JobAlreadyClaimed, JobParameterError
from vidiplug.vidicore.documents import Job, JobState, parse_job
from vidiplug.vidicore.transport import Transport, segment


class JobCalls(Transport):
    """``/API/job/...`` and the job-starting ``analyze``/``train`` calls."""

    def list_jobs(self, resource_id: str, states: Sequence[JobState | str] = ("READY",),
                  types: Sequence[str] | None = None) -> list[Job]:
        """Jobs addressed to ``resource_id`` (job data ``resourceId``), oldest first, with their data.

        ``states``: only jobs in these states (empty = any). ``types``: only these job types
        (None = any), e.g. ``("ANALYZE",)``. Reads every page.
        """
        params: list[tuple[str, str]] = [("jobmetadata", f"resourceId={resource_id}"), ("metadata", "true")]
        if states:
            params.append(("state", ",".join(JobState(s).value for s in states)))
        if types:
            params.append(("type", ",".join(types)))
        return [parse_job(entry) for entry in self._pages("GET", "job", "job", params=params)]

    def get_job(self, job_id: str) -> Job:
        """Job ``job_id`` with its data. Raises NotFound for an unknown id."""
        return parse_job(self._json("GET", f"job/{segment(job_id)}", params=[("metadata", "true")]))

    def claim_job(self, job_id: str, resource_id: str, instance: str, stale_after_s: float | None = None) -> Job:
        """Take READY job ``job_id`` for this service instance; it becomes STARTED.

        ``instance`` names this process (progress and status calls must repeat it). The
        claim is atomic on VidiCore's side: of two instances claiming one job, one gets the
        Job and the other JobAlreadyClaimed. Raises VidiCoreError (400) when the job is not
        addressed to ``resource_id``.

        ``stale_after_s``: also take over a STARTED job whose claimer has neither claimed
        nor reported progress for at least this many seconds (it is presumed dead). VidiCore
        checks the age, not us, so clocks need not agree; the returned Job's ``attempts`` has
        grown by one and its data ``previousClaimedBy`` names the old claimer. A job that is
        still active, handed back or ended raises JobAlreadyClaimed. None: READY jobs only.
        """
        path = f"job/{segment(job_id)}/claim"
        params: list[tuple[str, str]] = [("resourceId", resource_id), ("instance", instance)]
        if stale_after_s is not None:
            params.append(("staleAfterS", f"{stale_after_s:g}"))
        try:
            return parse_job(self._json("PUT", path, params=params))
        except Conflict as exc:
            raise JobAlreadyClaimed(exc.reason, method=exc.method, path=exc.path, status=exc.status,
                                    body=exc.body) from exc

    def report_progress(self, job_id: str, instance: str, value: float, total: float = 100,
                        description: str = "") -> Job:
        """Tell VidiCore how far job ``job_id`` is: ``value`` out of ``total`` (percent by default).

        ``description`` replaces the step's description when not empty. Raises Conflict
        unless the job is STARTED and claimed by ``instance``.
        """
        params: list[tuple[str, str]] = [("instance", instance), ("value", f"{value:g}"),
                                         ("total", f"{total:g}"), ("unit", "percent")]
        if description:
            params.append(("description", description))
        return parse_job(self._json("PUT", f"job/{segment(job_id)}/progress", params=params))

    def set_job_status(self, job_id: str, instance: str, status: JobState | str, reason: str | None = None,
                       callback_id: str | None = None) -> Job:
        """End our part of job ``job_id``: VIDINET_JOB (callbacks uploaded), FINISHED, FINISHED_WARNING or FAILED_TOTAL.

        ``reason`` is recorded as the job's ``failureReason`` (give one for FAILED_TOTAL and
        FINISHED_WARNING). ``callback_id``: with VIDINET_JOB, the callback resource the
        scripts were written to (needed for a job started without one, such as a custom
        job). Raises Conflict unless the job is STARTED and claimed by ``instance``,
        VidiCoreError (400) for VIDINET_JOB when neither the job nor the call names a callback.
        """
        params: list[tuple[str, str]] = [("instance", instance), ("status", JobState(status).value)]
        if reason:
            params.append(("reason", reason))
        if callback_id:
            params.append(("callbackId", callback_id))
        return parse_job(self._json("PUT", f"job/{segment(job_id)}/status", params=params))

    def abort_job(self, job_id: str, reason: str = "") -> None:
        """Abort job ``job_id``. VidiCore answers with an empty body; the job becomes
        ABORT_PENDING, then ABORTED (``get_job`` shows which). Raises Conflict if it has already ended."""
        params = [("reason", reason)] if reason else []
        self._send("DELETE", f"job/{segment(job_id)}", params=params, accept_text=True)

    def start_analyze(self, item_id: str, resource_id: str, callback_id: str | None,
                      jobmetadata: Mapping[str, str], tag: str | None = None) -> Job:
        """Start face analysis of item ``item_id`` by service ``resource_id``; the READY job.

        ``callback_id``: the callback resource results are handed back through. ``tag``:
        the shape to analyse (None = the original).
        ``jobmetadata``: job parameters such as ``cognitive_service_ConfidenceThreshold``;
        a key must not be empty or hold ``=``. Raises VidiCoreError (400) when the
        resource is not an ONLINE cognitive service.
        """
        params = _job_params(resource_id, callback_id, jobmetadata)
        if tag:
            params.append(("tag", tag))
        return parse_job(self._json("POST", f"item/{segment(item_id)}/analyze", params=params, json={}))

    def start_train(self, collection_id: str, resource_id: str, callback_id: str | None,
                    jobmetadata: Mapping[str, str]) -> Job:
        """Start training on the items of collection ``collection_id``; the READY job.

        Parameters as for ``start_analyze``.
        """
        params = _job_params(resource_id, callback_id, jobmetadata)
        return parse_job(self._json("POST", f"collection/{segment(collection_id)}/train", params=params, json={}))


def _job_params(resource_id: str, callback_id: str | None, jobmetadata: Mapping[str, str]) -> list[tuple[str, str]]:
    params = [("resourceId", resource_id)]
    if callback_id:
        params.append(("callbackId", callback_id))
    for key, value in jobmetadata.items():
        if not key or "=" in key:
            raise JobParameterError(key, value, "a jobmetadata key must be non-empty and hold no '='")
        params.append(("jobmetadata", f"{key}={value}"))
    return params
