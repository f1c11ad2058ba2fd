"""The service's Prometheus metrics: jobs by outcome, job duration, faces, real-time factor, errors, polls.

Part of the service room. Each ServiceMetrics owns its own registry (no global state), so
several services in one process (the tests, the demo) keep separate counts.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
OUTCOMES = ("handed_back", "failed", "lost")
DURATION_BUCKETS_S = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200)
REALTIME_BUCKETS = (0.5, 1, 2, 5, 10, 20, 50, 100, 200)


class ServiceMetrics:
    """Counters, gauges and histograms of one service, in Prometheus's text format by ``render()``.

    Names (all prefixed ``vidiplug_``): ``jobs_running``, ``jobs_total{type,outcome}``
    (outcome ``handed_back``: results went back to VidiCore; ``failed``: the job was failed
    with a reason; ``lost``: VidiCore could not be told, the job is left for recovery),
    ``job_duration_seconds{type}``, ``faces_total`` (faces embedded), ``people_total``
    (people found), ``media_seconds_total``, ``realtime_factor`` (media seconds per
    wall-clock second of each analysis), ``errors_total{where,error}`` (``where``: job,
    poll or heartbeat; ``error``: the exception's class name) and
    ``last_poll_success_timestamp_seconds``.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.jobs_running = Gauge("vidiplug_jobs_running", "Jobs this instance runs now", registry=r)
        self.jobs = Counter("vidiplug_jobs", "Jobs ended, by job type and outcome", ("type", "outcome"), registry=r)
        self.duration = Histogram("vidiplug_job_duration_seconds", "Wall-clock seconds from claim to the job's end",
                                  ("type",), buckets=DURATION_BUCKETS_S, registry=r)
        self.faces = Counter("vidiplug_faces", "Faces embedded by analyses", registry=r)
        self.people = Counter("vidiplug_people", "People (known or unknown) found by analyses", registry=r)
        self.media = Counter("vidiplug_media_seconds", "Seconds of media analysed", registry=r)
        self.realtime = Histogram("vidiplug_realtime_factor", "Media seconds analysed per wall-clock second",
                                  buckets=REALTIME_BUCKETS, registry=r)
        self.errors = Counter("vidiplug_errors", "Errors, by where they happened and their class", ("where", "error"),
                              registry=r)
        self.last_poll = Gauge("vidiplug_last_poll_success_timestamp_seconds",
                               "Unix time of the last poll that reached VidiCore", registry=r)

    def job_started(self) -> None:
        """One more job running."""
        self.jobs_running.inc()

    def job_ended(self, job_type: str, outcome: str, duration_s: float) -> None:
        """A job ended with ``outcome`` (one of OUTCOMES) after ``duration_s`` seconds."""
        self.jobs_running.dec()
        self.jobs.labels(type=job_type, outcome=outcome).inc()
        self.duration.labels(type=job_type).observe(duration_s)

    def analysed(self, media_s: float, wall_s: float, faces: int, people: int) -> None:
        """An analysis of ``media_s`` seconds of media took ``wall_s`` seconds and embedded ``faces`` faces."""
        self.faces.inc(faces)
        self.people.inc(people)
        self.media.inc(max(0.0, media_s))
        if media_s > 0 and wall_s > 0:
            self.realtime.observe(media_s / wall_s)

    def error(self, where: str, exc: BaseException) -> None:
        """Count ``exc`` (by class name) at ``where`` (job, poll, heartbeat)."""
        self.errors.labels(where=where, error=type(exc).__name__).inc()

    def poll_succeeded(self, unix_time_s: float) -> None:
        """A poll reached VidiCore at ``unix_time_s``."""
        self.last_poll.set(unix_time_s)

    def render(self) -> bytes:
        """Every metric in Prometheus's text exposition format (content type CONTENT_TYPE)."""
        return generate_latest(self.registry)
