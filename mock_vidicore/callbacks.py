"""The callback executor: runs the CallbackDocuments a service left in S3 for jobs in VIDINET_JOB.

Layout (our choice, README): `{callback prefix}{jobId}/` holds the job's files;
every `*.xml` there is a CallbackDocument, run in lexical key order. All run →
the job's files are deleted and the job is FINISHED; one throws → files kept,
error and script name recorded, job FAILED_TOTAL. Only this module uses boto3.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from mock_vidicore.context import Context
from mock_vidicore.documents import parse_xml
from mock_vidicore.errors import ApiError
from mock_vidicore.jobs import end_job
from mock_vidicore.jsapi import Credentials, Sandbox, ScriptError
from mock_vidicore.model import JobState, now_iso
from mock_vidicore.redaction import redact
from mock_vidicore.s3location import S3Location

log = logging.getLogger("mock_vidicore.callbacks")


class CallbackExecutor:
    """Polls S3 every ``poll_interval_s`` for jobs in VIDINET_JOB and runs their scripts."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="callback-executor", daemon=True)

    def start(self) -> None:
        """Start the polling thread."""
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the thread to stop and wait up to ``timeout_s`` for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stop.wait(self._ctx.settings.poll_interval_s):
            with self._ctx.store.lock:
                pending = [j for j in self._ctx.store.jobs.values()
                           if j.status == JobState.ABORT_PENDING.value]
                for job in pending:  # the abort takes effect
                    end_job(job, JobState.ABORTED, job.data.get("failureReason", ""), "abort")
                if pending:
                    self._ctx.store.save()
                waiting = [j.id for j in self._ctx.store.jobs.values()
                           if j.status == JobState.VIDINET_JOB.value]
            for job_id in waiting:
                if self._stop.is_set():
                    return
                try:
                    self.run_job(job_id)
                except (BotoCoreError, ClientError) as exc:
                    log.warning("job %s: callback location unreadable: %s", job_id, redact(str(exc)))

    def _client(self, location: S3Location) -> Any:
        return boto3.client(
            "s3", endpoint_url=location.endpoint or self._ctx.settings.s3_endpoint,
            aws_access_key_id=location.access_key or None,
            aws_secret_access_key=location.secret_key or None, region_name="us-east-1",
            config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2}))

    def run_job(self, job_id: str) -> None:
        """Run every callback script of one job, then finish or fail it."""
        store = self._ctx.store
        with store.lock:
            job = store.job(job_id)
            location = S3Location.parse(store.resource(job.data["callbackId"]).body["uri"])
            credentials = Credentials(job.user, self._ctx.settings.users.get(job.user, ""))
        client = self._client(location)
        prefix = location.job_prefix(job_id)
        keys = sorted(obj["Key"] for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=location.bucket, Prefix=prefix) for obj in page.get("Contents", []))
        scripts = [key for key in keys if key.endswith(".xml")]
        if not scripts:
            return
        for step, key in enumerate(scripts, start=1):
            name = key[len(prefix):]
            failure, value = self._run_script(client, location, key, name, job_id, credentials)
            with store.transaction():
                job = store.job(job_id)
                if job.status != JobState.VIDINET_JOB.value:
                    return
                if failure:
                    end_job(job, JobState.FAILED_TOTAL, f"{name}: {failure}", name)
                    log.warning("job %s failed in %s: %s", job_id, name, failure)
                    return
                job.log.append({"step": str(step), "status": "FINISHED", "description": name,
                                "result": value})  # the script's value, as JSON (mock's choice)
        for start in range(0, len(keys), 1000):
            client.delete_objects(Bucket=location.bucket, Delete={
                "Objects": [{"Key": k} for k in keys[start:start + 1000]]})
        with store.transaction():
            job = store.job(job_id)
            if job.status == JobState.VIDINET_JOB.value:
                job.status, job.finished = JobState.FINISHED.value, now_iso()
                job.step_description = "callbacks done"
        log.info("job %s: %d callback scripts run, %d files deleted", job_id, len(scripts), len(keys))

    def _run_script(self, client: Any, location: S3Location, key: str, name: str, job_id: str,
                    credentials: Credentials) -> tuple[str, str]:
        """Run one CallbackDocument's script: ("", its value as JSON), or (the failure, "")."""
        body = client.get_object(Bucket=location.bucket, Key=key)["Body"].read()
        try:
            doc = parse_xml(body, "CallbackDocument")
        except ApiError as exc:
            return f"not a CallbackDocument: {exc.fields.get('explanation', '')}", ""
        script = doc.get("script")
        if not isinstance(script, str) or not script.strip():
            return "CallbackDocument has no <script>", ""
        if self._ctx.dispatch is None:
            return "server not ready", ""
        settings = self._ctx.settings
        # No `job` object: job.getData/setData are documented for JavaScript job tasks only.
        sandbox = Sandbox(self._ctx.dispatch, credentials, None,
                          f"callback {job_id} {name}", settings.script_time_limit_s,
                          settings.script_memory_limit_bytes)
        try:
            return "", sandbox.run(script)
        except ScriptError as exc:
            return str(exc), ""
