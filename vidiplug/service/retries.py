"""Retry a call that failed for a passing reason (VidiCore or S3 unreachable, 5xx, throttling), with backoff.

Service room: the adapters (vidicore, storage) say what is transient by raising
VidiCoreUnavailable or StorageUnavailable; only the service decides to try again (tenacity).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_delay, wait_exponential_jitter

from vidiplug.errors import StorageUnavailable, VidiCoreUnavailable
from vidiplug.settings import ServiceSettings

log = logging.getLogger("vidiplug.service")
T = TypeVar("T")
TRANSIENT = (VidiCoreUnavailable, StorageUnavailable)


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how patiently a transient failure is retried.

    ``window_s``: no attempt starts after this many seconds since the first one; the last
    failure is then raised. ``backoff_s``: the first pause; each next pause doubles (plus up
    to ``backoff_s`` of jitter, so instances do not retry in step), up to ``max_backoff_s``.
    """

    window_s: float = 30.0
    backoff_s: float = 0.5
    max_backoff_s: float = 5.0

    @classmethod
    def from_settings(cls, service: ServiceSettings) -> RetryPolicy:
        """The policy of ``[service] retry_window_s``, ``retry_backoff_s`` and ``retry_max_backoff_s``."""
        return cls(service.retry_window_s, service.retry_backoff_s, service.retry_max_backoff_s)


def with_retries(policy: RetryPolicy, what: str, call: Callable[[], T]) -> T:
    """``call()``'s value, calling it again while it raises VidiCoreUnavailable or StorageUnavailable.

    ``what`` names the call in the log line each retry writes (``"progress of job VX-3"``).
    Any other exception is raised at once; a transient one still failing when the window
    of ``policy`` has passed is raised as it is. Use it for idempotent calls only.
    """

    def note(state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome is not None else None
        pause_s = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning("%s failed (attempt %d): %s; trying again in %.1f s", what, state.attempt_number, failure, pause_s)

    retrying = Retrying(
        retry=retry_if_exception_type(TRANSIENT),
        stop=stop_after_delay(policy.window_s),
        wait=wait_exponential_jitter(multiplier=policy.backoff_s, max=policy.max_backoff_s, jitter=policy.backoff_s),
        before_sleep=note,
        reraise=True,
    )
    return retrying(call)
