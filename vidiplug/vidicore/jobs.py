"""Job calls: find, read and abort jobs, and start analyze/train jobs (documented endpoints).

Part of VidiCoreClient; speaks HTTP only through Transport. The claim, progress and status
calls of the VidiNet-style hand-off are in bridge.py, with the other undocumented calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from vidiplug.errors import JobParameterError
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
