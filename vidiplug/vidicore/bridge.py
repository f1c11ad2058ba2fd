"""Bridge mode's calls: every call vidiplug makes that a real VidiCore does not document.

Part of VidiCoreClient. The bridge (``vidicore.mode = "bridge"``) is the VidiNet-style job
hand-off of seed 002: VidiCore hands an ANALYZE or train job to the service, which claims
it, reports progress and hands results back. On a real VidiCore that protocol runs between
VidiCore and VidiNet and is not public, so these calls need a VidiCore-side counterpart;
mock_vidicore started with ``--bridge`` is one (vidicore-fidelity.md). Direct mode never
calls anything in this module. BRIDGE_CALLS lists them (the README shows the same list).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vidiplug.errors import Conflict, JobAlreadyClaimed
from vidiplug.vidicore.documents import Job, JobState, JsonObject, parse_job
from vidiplug.vidicore.transport import Transport, segment

BRIDGE_CALLS: tuple[tuple[str, str, str], ...] = (
    ("PUT", "job/{id}/claim", "take a READY job (or a stale STARTED one) for this instance"),
    ("PUT", "job/{id}/progress", "report a claimed job's progress (also the heartbeat)"),
    ("PUT", "job/{id}/status", "hand a claimed job back (VIDINET_JOB) or end it"),
    ("GET", "job?jobmetadata=resourceId=...", "find the jobs addressed to our resource: the job-data key "
                                              "resourceId is not documented"),
    ("PUT", "resource/vidinet/{id}/configuration", "apply a service configuration sent in the body; a real "
                                                   "VidiCore pulls it from VidiNet and ignores any body"),
    ("GET", "resource/vidinet/{id}/configuration/pre-check", "what that configuration would create"),
)
"""(method, path, what for) of each undocumented call, in the order a job meets them."""


class BridgeCalls(Transport):
    """The calls of BRIDGE_CALLS (``list_jobs``, which filters on ``resourceId``, stays in jobs.py)."""

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

    def precheck_configuration(self, resource_id: str) -> JsonObject:
        """What applying the service configuration would do, changing nothing.

        The ServiceConfigurationResultDocument as JSON: ``metadataField``, ``fieldGroup``,
        ``shapeTag``, ``taskDefinition`` and ``collection`` entries with a ``status`` of
        ``CREATE``, ``UPDATE`` or ``EXISTS``.
        """
        return self._json("GET", f"resource/vidinet/{segment(resource_id)}/configuration/pre-check")

    def apply_configuration(self, resource_id: str, declaration: Mapping[str, Any] | None = None) -> JsonObject:
        """Create the fields, groups, shape tags, job types and collections the service declares.

        Idempotent: what exists is left alone. ``declaration`` sends a declaration of our
        own (mock_vidicore stores it on the resource; real VidiCore takes it from VidiNet).
        Returns the ServiceConfigurationResultDocument, statuses as before applying.
        """
        return self._json("PUT", f"resource/vidinet/{segment(resource_id)}/configuration",
                          json=dict(declaration) if declaration is not None else None)

