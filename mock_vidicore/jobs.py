"""Jobs: VidiCore's job endpoints plus the claim / progress / status calls of a VidiNet-style service.

Analyze and train create READY jobs addressed to a vidinet resource; a
service claims one (READY → STARTED), reports progress, then hands it back
(VIDINET_JOB, after which the callback executor runs its scripts) or ends it. A claim
with `staleAfterS` may also take over a STARTED job whose claimer went quiet (a dead instance).
The claim / progress / status calls are invented: they are registered only in bridge
mode (`--bridge`, listed in `mock_vidicore.bridge`) and answer 404 otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mock_vidicore.context import Context
from mock_vidicore.errors import conflict, invalid_input
from mock_vidicore.model import TERMINAL, Job, JobState, now_iso
from mock_vidicore.web import Request, Response, Router, document_response, text_response

PRIORITIES = ("LOWEST", "LOW", "MEDIUM", "HIGH", "HIGHEST", "IMMEDIATE")
# The query parameters of `POST /job` (reference §7.3); anything else, callbackId included, is 400.
CUSTOM_JOB_PARAMS = frozenset({"type", "jobmetadata", "priority", "notification", "notificationData"})
TRAIN_JOB_TYPE = "TRAINING"
SERVICE_END_STATES = (JobState.VIDINET_JOB, JobState.FINISHED, JobState.FINISHED_WARNING,
                      JobState.FAILED_TOTAL)


def create_job(ctx: Context, job_type: str, user: str, data: dict[str, str],
               status: JobState = JobState.READY, priority: str = "MEDIUM") -> Job:
    """Create and store a job (caller holds the transaction). Terminal jobs get `finished`."""
    job = Job(id=ctx.store.next_id("job"), type=job_type, status=status.value, user=user,
              started=now_iso(), priority=priority, data=dict(data))
    if status in TERMINAL:
        job.finished = job.started
    ctx.store.jobs[job.id] = job
    return job


def end_job(job: Job, status: JobState, reason: str = "", step: str = "") -> None:
    """Move a job to a terminal state, recording ``reason`` (and the failing ``step``) in its log."""
    job.status = status.value
    job.finished = now_iso()
    if reason:
        job.data["failureReason"] = reason
        task_status = "FAILED" if status is JobState.FAILED_TOTAL else status.value
        job.log.append({"step": str(len(job.log) + 1), "status": task_status,
                        "description": step or "job", "timestamp": job.finished,
                        "errorMessage": reason})


def job_document(job: Job, with_data: bool) -> dict[str, Any]:
    """The JobDocument (JSON form); ``with_data`` adds `<data>` (the `metadata=true` view)."""
    doc: dict[str, Any] = {"jobId": job.id, "user": job.user, "started": job.started}
    if job.finished:
        doc["finished"] = job.finished
    doc.update({"status": job.status, "type": job.type, "priority": job.priority})
    if with_data:
        doc["data"] = [{"key": k, "value": v} for k, v in job.data.items()]
    step: dict[str, Any] = {"step": "1", "status": job.status}
    if job.step_description:
        step["description"] = job.step_description
    if job.step_timestamp:
        step["timestamp"] = job.step_timestamp
    step["attempts"] = str(job.attempts)
    if job.progress:
        step["progress"] = dict(job.progress)
    doc["currentStep"] = step
    doc["totalSteps"] = "1"
    if job.log:
        doc["log"] = {"task": [dict(task) for task in job.log]}
    return doc


def job_metadata(request: Request) -> dict[str, str]:
    """Repeatable `jobmetadata=key=value` parameters as a dict; 400 for a pair without `=`."""
    data: dict[str, str] = {}
    for pair in request.all_args("jobmetadata"):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise invalid_input("jobmetadata", "jobmetadata must be key=value", value=pair)
        data[key] = value
    return data


def _priority(request: Request) -> str:
    priority = request.arg("priority", "MEDIUM")
    if priority not in PRIORITIES:
        raise invalid_input("priority", f"priority must be one of {PRIORITIES}", value=priority)
    return priority


def _cognitive_data(ctx: Context, request: Request) -> dict[str, str]:
    resource_id, callback_id = request.arg("resourceId"), request.arg("callbackId")
    if not resource_id:
        raise invalid_input("resourceId", "resourceId is required")
    resource = ctx.store.resource(resource_id)
    if resource.type != "vidinet" or resource.body.get("type") != "COGNITIVE_SERVICE":
        raise invalid_input("resourceId", f"{resource_id} is not a cognitive service",
                            entity_id=resource_id)
    if resource.body.get("state") != "ONLINE":
        raise invalid_input("resourceId", f"{resource_id} is not ONLINE", entity_id=resource_id)
    data = {"resourceId": resource_id}
    if callback_id:
        if ctx.store.resource(callback_id).type != "callback":
            raise invalid_input("callbackId", f"{callback_id} is not a callback resource",
                                entity_id=callback_id)
        data["callbackId"] = callback_id
    return data


def _stale_after_s(request: Request) -> float | None:
    """The claim's `staleAfterS` (seconds, >= 0), or None when absent; 400 for anything else."""
    text = request.arg("staleAfterS")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses NaN
        raise invalid_input("staleAfterS", "staleAfterS must be a number of seconds >= 0", value=text)
    return value


def _quiet_s(job: Job) -> float:
    """Seconds since the job's last claim or progress report (infinite if it has none)."""
    if not job.step_timestamp:
        return float("inf")
    last = datetime.fromisoformat(job.step_timestamp.replace("Z", "+00:00"))
    return (datetime.now(UTC) - last).total_seconds()


def _take(job: Job, instance: str) -> None:
    """Give ``job`` to ``instance`` as a new attempt: STARTED, stamped, progress cleared."""
    job.status, job.claimed_by = JobState.STARTED.value, instance
    job.data["claimedBy"] = instance
    job.attempts += 1
    job.step_timestamp = now_iso()
    job.progress, job.step_description = {}, ""


def _owned(job: Job, request: Request, allowed: tuple[JobState, ...]) -> None:
    instance = request.arg("instance")
    if not instance:
        raise invalid_input("instance", "instance is required")
    if job.status not in [s.value for s in allowed] or job.claimed_by != instance:
        raise conflict("Job", job.id, f"job is {job.status}, claimed by "
                                      f"{job.claimed_by or 'nobody'}, not {instance}")


def register(router: Router, ctx: Context) -> None:
    """Add job, analyze and train routes to ``router``."""
    store = ctx.store

    def answer(request: Request, job: Job, default_data: bool = True) -> Response:
        return document_response(request, "JobDocument",
                                 job_document(job, request.flag("metadata", default_data)))

    def analyze(request: Request) -> Response:
        request.document("AnalyzeJobDocument", required=False)
        with store.transaction():
            store.item(request.params["id"])
            data = {"itemId": request.params["id"], **_cognitive_data(ctx, request)}
            if request.arg("tag"):  # the shape to analyse (default: the original)
                data["tag"] = request.arg("tag")
            job = create_job(ctx, "ANALYZE", request.user, {**job_metadata(request), **data},
                             priority=_priority(request))
            return answer(request, job)

    def train(request: Request) -> Response:
        with store.transaction():
            store.collection(request.params["id"])
            data = {"collectionId": request.params["id"], **_cognitive_data(ctx, request)}
            job = create_job(ctx, TRAIN_JOB_TYPE, request.user, {**job_metadata(request), **data},
                             priority=_priority(request))
            return answer(request, job)

    def custom(request: Request) -> Response:
        job_type = request.arg("type")
        unknown = sorted({key for key, _ in request.query} - CUSTOM_JOB_PARAMS)
        if unknown:
            raise invalid_input(unknown[0], f"POST job takes only {sorted(CUSTOM_JOB_PARAMS)}, "
                                            f"not {unknown}")
        with store.transaction():
            if job_type not in store.job_types:
                raise invalid_input("type", f"unknown job type {job_type!r}", value=job_type)
            data = {**job_metadata(request), "resourceId": store.job_types[job_type]}
            job = create_job(ctx, job_type, request.user, data, priority=_priority(request))
            return answer(request, job)

    def list_jobs(request: Request) -> Response:
        types, states = request.args("type"), request.args("state")
        wanted = job_metadata(request)
        first, number = request.int_arg("first", 1), request.int_arg("number", 100)
        sort_key, _, direction = request.arg("sort", "jobId asc").partition(" ")
        with store.lock:
            found = [j for j in store.jobs.values()
                     if (not types or j.type in types) and (not states or j.status in states)
                     and (not request.arg("user") or j.user == request.arg("user"))
                     and all(j.data.get(k) == v for k, v in wanted.items())]
            if sort_key == "startTime":
                found.sort(key=lambda j: j.started)
            else:
                found.sort(key=lambda j: int(j.id.split("-")[1]))
            if direction.lower() == "desc":
                found.reverse()
            page = found[max(first - 1, 0):max(first - 1, 0) + number]
            if request.flag("idonly"):
                return text_response("\r\n".join(j.id for j in page))
            return document_response(request, "JobListDocument", {
                "hits": len(found),
                "job": [job_document(j, request.flag("metadata")) for j in page]})

    def get_job(request: Request) -> Response:
        with store.lock:
            return answer(request, store.job(request.params["id"]), default_data=False)

    def abort(request: Request) -> Response:
        """VidiCore's abort: an empty answer. A job a service or script is running becomes
        ABORT_PENDING (the executor's next poll makes it ABORTED); one not yet running, ABORTED."""
        with store.transaction():
            job = store.job(request.params["id"])
            if job.status in [s.value for s in TERMINAL]:
                raise conflict("Job", job.id, f"job already {job.status}")
            if job.status in (JobState.STARTED.value, JobState.VIDINET_JOB.value):
                job.status = JobState.ABORT_PENDING.value
                if request.arg("reason"):
                    job.data["failureReason"] = request.arg("reason")
            elif job.status != JobState.ABORT_PENDING.value:
                end_job(job, JobState.ABORTED, request.arg("reason"), "abort")
        return text_response("")

    def claim(request: Request) -> Response:
        instance, resource_id = request.arg("instance"), request.arg("resourceId")
        if not instance or not resource_id:
            raise invalid_input("claim", "resourceId and instance are required")
        stale_after_s = _stale_after_s(request)
        with store.transaction():
            job = store.job(request.params["id"])
            if job.data.get("resourceId") != resource_id:
                raise invalid_input("resourceId", f"{job.id} is not addressed to {resource_id}",
                                    entity_id=job.id)
            if job.status == JobState.STARTED.value and stale_after_s is not None:
                quiet = _quiet_s(job)
                if quiet < stale_after_s:
                    raise conflict("Job", job.id, f"job is STARTED, claimed by {job.claimed_by}, "
                                                  f"last active {quiet:.1f} s ago")
                job.data["previousClaimedBy"] = job.claimed_by
            elif job.status != JobState.READY.value:
                raise conflict("Job", job.id, f"job is {job.status}, claimed by "
                                              f"{job.claimed_by or 'nobody'}")
            _take(job, instance)
            return answer(request, job)

    def progress(request: Request) -> Response:
        try:
            value, total = float(request.arg("value")), float(request.arg("total", "100"))
        except ValueError:
            raise invalid_input("progress", "value and total must be numbers") from None
        with store.transaction():
            job = store.job(request.params["id"])
            _owned(job, request, (JobState.STARTED,))
            job.progress = {"value": f"{value:g}", "total": f"{total:g}",
                            "unit": request.arg("unit", "percent")}
            job.step_description = request.arg("description", job.step_description)
            job.step_timestamp = now_iso()
            return answer(request, job)

    def set_status(request: Request) -> Response:
        try:
            status = JobState(request.arg("status"))
        except ValueError:
            raise invalid_input("status", "unknown status", value=request.arg("status")) from None
        if status not in SERVICE_END_STATES:
            raise invalid_input("status", f"a service may set only {[s.value for s in SERVICE_END_STATES]}")
        with store.transaction():
            job = store.job(request.params["id"])
            _owned(job, request, (JobState.STARTED,))
            if status is JobState.VIDINET_JOB:
                callback_id = request.arg("callbackId")  # where the service wrote the scripts
                if callback_id:
                    if store.resource(callback_id).type != "callback":
                        raise invalid_input("callbackId", f"{callback_id} is not a callback resource",
                                            entity_id=callback_id)
                    job.data["callbackId"] = callback_id
                if "callbackId" not in job.data:
                    raise invalid_input("status", f"{job.id} has no callbackId", entity_id=job.id)
                job.status = status.value
                job.step_description = "running callback scripts"
            else:
                end_job(job, status, request.arg("reason"), "service")
            return answer(request, job)

    router.add("POST", "item/{id}/analyze", analyze)
    router.add("POST", "collection/{id}/train", train)
    router.add("POST", "job", custom)
    router.add("GET", "job", list_jobs)
    router.add("GET", "job/{id}", get_job)
    router.add("DELETE", "job/{id}", abort)
    router.add("PUT", "job/{id}/claim", claim)
    router.add("PUT", "job/{id}/progress", progress)
    router.add("PUT", "job/{id}/status", set_status)
