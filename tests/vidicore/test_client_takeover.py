"""claim_job's takeover of a dead instance's job, and the step timestamp and attempts a Job carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from vidiplug.errors import JobAlreadyClaimed
from vidiplug.vidicore import Job, JobState, VidiCoreClient, parse_job


def ready_job(client: VidiCoreClient, resource_id: str) -> Job:
    """A READY analyze job addressed to ``resource_id`` (this file as its media)."""
    return client.start_analyze(client.import_placeholder_with_file(Path(__file__)), resource_id, None, {})


def step(**fields: Any) -> dict[str, Any]:
    """A JobDocument whose currentStep holds ``fields``."""
    return {"jobId": "VX-3", "status": "STARTED", "type": "ANALYZE", "currentStep": {"step": "1", **fields}}


def test_a_claimed_job_carries_its_claim_time_and_one_attempt(client: VidiCoreClient, service_id: str) -> None:
    job = ready_job(client, service_id)

    claimed = client.claim_job(job.id, service_id, "host-1")

    assert (job.step_timestamp, job.attempts) == (None, 0)
    assert claimed.attempts == 1
    assert claimed.step_timestamp is not None and claimed.step_timestamp.tzinfo is not None
    assert abs(datetime.now(UTC) - claimed.step_timestamp) < timedelta(seconds=60)


def test_a_quiet_job_is_taken_over_with_stale_after_s(client: VidiCoreClient, service_id: str) -> None:
    job = ready_job(client, service_id)
    client.claim_job(job.id, service_id, "dead-host")

    taken = client.claim_job(job.id, service_id, "host-2", stale_after_s=0)

    assert taken.state is JobState.STARTED and taken.attempts == 2
    assert taken.data["claimedBy"] == "host-2" and taken.data["previousClaimedBy"] == "dead-host"


def test_an_active_job_is_not_taken_over(client: VidiCoreClient, service_id: str) -> None:
    job = ready_job(client, service_id)
    client.claim_job(job.id, service_id, "host-1")

    with pytest.raises(JobAlreadyClaimed) as caught:
        client.claim_job(job.id, service_id, "host-2", stale_after_s=3600)

    assert caught.value.status == 409
    assert client.get_job(job.id).data["claimedBy"] == "host-1"


def test_without_stale_after_s_a_started_job_stays_claimed(client: VidiCoreClient, service_id: str) -> None:
    job = ready_job(client, service_id)
    client.claim_job(job.id, service_id, "dead-host")

    with pytest.raises(JobAlreadyClaimed):
        client.claim_job(job.id, service_id, "host-2")

    assert client.get_job(job.id).attempts == 1


def test_step_timestamp_is_read_as_utc() -> None:
    zulu = parse_job(step(timestamp="2024-05-01T10:00:00.123Z", attempts="3"))
    offset = parse_job(step(timestamp="2024-05-01T12:00:00+02:00"))

    assert zulu.step_timestamp == datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert zulu.attempts == 3
    assert offset.step_timestamp == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_an_unreadable_timestamp_or_attempt_count_reads_as_unknown() -> None:
    parsed = parse_job(step(timestamp="yesterday", attempts="many"))

    assert (parsed.step_timestamp, parsed.attempts) == (None, 0)
