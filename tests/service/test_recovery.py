"""A service killed mid-job never leaves the job running forever.

A job whose instance died is taken over once it has been quiet for ``claim_timeout_s`` and
run again, or failed with a reason once it has had three attempts; a restarted instance
takes its own jobs back at once; a running job's heartbeat keeps other instances off it.
The dead instances are played through the raw API: they claim and never report again.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from operator_api import Operator, job_data, wait_for
from vidiplug.engine.base import Detection, Engine, EngineInfo
from vidiplug.render.timecode import parse_timecode
from vidiplug.service.app import ServiceApp
from vidiplug.settings import load_settings

HAMILTON = "face_recognition/examples/short_hamilton_clip.mp4"
LIN_START_S, LIN_END_S = 3.5, 8.0  # MANIFEST: Lin-Manuel Miranda medium shot, frontal
INTERVAL_S = 1.0  # the default sampling interval: times are good to one interval


@dataclass(frozen=True)
class Abandoned:
    """A job on a fresh resource that dead instances claimed and never reported on."""

    resource_name: str
    item_id: str
    job_id: str


def step_time(job: dict[str, Any]) -> datetime:
    """A JobDocument's ``currentStep/timestamp``."""
    return datetime.fromisoformat(job["currentStep"]["timestamp"].replace("Z", "+00:00"))


def face_spans(operator: Operator, item_id: str) -> list[tuple[float, float]]:
    """(start s, end s) of every face timespan in the item's metadata."""
    spans = []
    for span in operator.metadata(item_id).get("timespan", []) or []:
        if span.get("start") == "-INF":
            continue
        if any(str(g.get("name", "")).startswith("adu_face_") for g in span.get("group", []) or []):
            spans.append((float(parse_timecode(span["start"])), float(parse_timecode(span["end"]))))
    return spans


def abandon(start_service: Callable[..., ServiceApp], operator: Operator, media: Path,
            dead: Sequence[str]) -> Abandoned:
    """An analyze job claimed by each of ``dead`` in turn, every one taking over from the last.

    The first dead instance registers the resource (as a service would) and stops before
    the job exists, so only the raw claims below ever touch it.
    """
    name = f"vidiplug-{uuid.uuid4().hex[:8]}"
    first = start_service(instance=dead[0], vidicore__resource_name=name)
    first.stop()
    reg = first.registration
    assert reg is not None
    item = operator.import_file(media)
    job_id = operator.analyze(item, reg.resource_id, reg.callback_id)
    for attempt, instance in enumerate(dead):
        params = {"resourceId": reg.resource_id, "instance": instance}
        if attempt:
            params["staleAfterS"] = "0"
        operator.call("PUT", f"job/{job_id}/claim", params=params)
    assert operator.job(job_id)["currentStep"]["attempts"] == str(len(dead))
    return Abandoned(name, item, job_id)


def test_a_job_claimed_by_a_dead_instance_is_taken_over_and_finished(
    start_service, operator: Operator, data_dir: Path
) -> None:
    job = abandon(start_service, operator, data_dir / HAMILTON, ["dead-host"])
    claimed_at = step_time(operator.job(job.job_id))

    live = start_service(instance="host-live", vidicore__resource_name=job.resource_name,
                         service__claim_timeout_s=1.0)
    ended = operator.wait_job(job.job_id, timeout_s=120)

    assert ended["status"] == "FINISHED", ended
    data = job_data(ended)
    assert (data["claimedBy"], data["previousClaimedBy"]) == ("host-live", "dead-host")
    assert ended["currentStep"]["attempts"] == "2"
    assert step_time(ended) - claimed_at >= timedelta(seconds=1.0)  # not before the claim went stale
    assert live.poller is not None and live.poller.finished == [job.job_id]
    spans = face_spans(operator, job.item_id)
    # The span ends at the first sample without the face: up to one interval (of 1.001 s) late.
    assert any(abs(start - LIN_START_S) <= INTERVAL_S and abs(end - LIN_END_S) <= INTERVAL_S + 0.1
               for start, end in spans), spans


def test_a_job_abandoned_after_three_attempts_is_failed_naming_them(
    start_service, operator: Operator, data_dir: Path
) -> None:
    job = abandon(start_service, operator, data_dir / HAMILTON, ["dead-1", "dead-2", "dead-3"])

    live = start_service(instance="host-live", vidicore__resource_name=job.resource_name,
                         service__claim_timeout_s=1.0)
    ended = operator.wait_job(job.job_id, timeout_s=60)

    assert ended["status"] == "FAILED_TOTAL", ended
    reason = job_data(ended)["failureReason"]
    assert "abandoned by instance dead-3 after 3 attempts" in reason
    assert live.poller is not None and live.poller.finished == []  # never run again
    assert face_spans(operator, job.item_id) == []


def test_a_restarted_instance_takes_its_own_job_back_without_waiting(
    start_service, operator: Operator, data_dir: Path
) -> None:
    job = abandon(start_service, operator, data_dir / HAMILTON, ["host-r"])

    start_service(instance="host-r", vidicore__resource_name=job.resource_name)  # claim_timeout_s 600
    ended = operator.wait_job(job.job_id, timeout_s=120)

    assert ended["status"] == "FINISHED", ended
    assert ended["currentStep"]["attempts"] == "2"  # the restart counts as an attempt
    assert job_data(ended)["claimedBy"] == "host-r"


class GatedEngine:
    """An engine that stops at its first detection until ``gate`` opens: a job that runs
    long and reports nothing meanwhile. ``entered`` is set once a detection waits."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.info: EngineInfo = engine.info
        self.providers: tuple[str, ...] = engine.providers
        self.gate = threading.Event()
        self.entered = threading.Event()

    def luma_size(self, width: int, height: int) -> tuple[int, int] | None:
        return self._engine.luma_size(width, height)

    def detect(self, image: NDArray[np.uint8], luma: NDArray[np.uint8] | None = None) -> list[Detection]:
        self.entered.set()
        self.gate.wait(timeout=120)
        return self._engine.detect(image, luma)

    def embed(self, image: NDArray[np.uint8], found: Sequence[Detection]) -> NDArray[np.float32]:
        return self._engine.embed(image, found)


@pytest.fixture
def gated_service(mock_url: str, s3_endpoint: str, callback_bucket: str, tmp_path: Path,
                  dlib_engine: Any) -> Iterator[Callable[..., tuple[ServiceApp, GatedEngine]]]:
    """``gated_service(instance, **settings)``: a running service whose engine is a GatedEngine."""
    started: list[tuple[ServiceApp, GatedEngine]] = []

    def start(instance: str, **overrides: object) -> tuple[ServiceApp, GatedEngine]:
        values: dict[str, object] = {
            "vidicore.url": mock_url, "vidicore.user": "admin", "vidicore.password": "admin", "vidicore.mode": "bridge",
            "callback.uri": f"s3://test:test@{callback_bucket}/callbacks/", "callback.endpoint_url": s3_endpoint,
            "store.path": str(tmp_path / f"gated-{len(started)}.sqlite"), "service.poll_interval_s": 0.2,
            "service.autotrain": False,
        }
        values.update({key.replace("__", "."): value for key, value in overrides.items()})
        engine = GatedEngine(dlib_engine)
        app = ServiceApp(load_settings(None, {}, values), instance=instance, engine=engine)
        started.append((app, engine))
        app.start()
        return app, engine

    try:
        yield start
    finally:
        for app, engine in reversed(started):
            engine.gate.set()
            app.stop()


def test_a_running_jobs_heartbeat_keeps_another_instance_off_it(
    gated_service, start_service, operator: Operator, data_dir: Path
) -> None:
    name, timeout_s = f"vidiplug-{uuid.uuid4().hex[:8]}", 2.0
    running, engine = gated_service("host-a", vidicore__resource_name=name, service__claim_timeout_s=timeout_s)
    reg = running.registration
    assert reg is not None
    job_id = operator.analyze(operator.import_file(data_dir / HAMILTON), reg.resource_id, reg.callback_id)
    assert engine.entered.wait(60), "the job never reached face detection"
    stuck_at = step_time(operator.job(job_id))
    other = start_service(instance="host-b", vidicore__resource_name=name, service__claim_timeout_s=timeout_s,
                          service__poll_interval_s=0.05)

    try:
        # Three timeouts' worth of heartbeats while the job reports nothing of its own.
        wait_for(lambda: step_time(operator.job(job_id)) - stuck_at > timedelta(seconds=3 * timeout_s),
                 timeout_s=30, what="heartbeats to move the step timestamp on")
        during = operator.job(job_id)
    finally:
        engine.gate.set()
    ended = operator.wait_job(job_id, timeout_s=120)

    assert job_data(during)["claimedBy"] == "host-a" and during["currentStep"]["attempts"] == "1"
    assert ended["status"] == "FINISHED", ended
    assert job_data(ended)["claimedBy"] == "host-a" and "previousClaimedBy" not in job_data(ended)
    assert other.poller is not None and other.poller.finished == []
