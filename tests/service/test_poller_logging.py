"""The poller keeps apscheduler's expected 'skipped overlapping poll' warning out of the operator's log."""

from __future__ import annotations

import logging

import pytest

import vidiplug.service.poller  # noqa: F401 - importing it installs the filter


def test_skipped_overlapping_polls_are_not_warned_about_but_other_warnings_are(
        caplog: pytest.LogCaptureFixture) -> None:
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    with caplog.at_level(logging.WARNING, logger="apscheduler.scheduler"):
        scheduler_log.warning('Execution of job "%s" skipped: maximum number of running instances reached (%d)',
                              "JobPoller.poll_once", 1)
        scheduler_log.warning("Run time of job %s was missed by %s", "JobPoller.poll_once", "0:00:03")

    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["Run time of job JobPoller.poll_once was missed by 0:00:03"]
