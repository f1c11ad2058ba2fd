"""with_retries: transient VidiCore and S3 failures are tried again, anything else is raised at once."""

from __future__ import annotations

import pytest

from vidiplug.errors import JobParameterError, NotFound, StorageUnavailable, VidiCoreUnavailable
from vidiplug.service.retries import RetryPolicy, with_retries
from vidiplug.settings import ServiceSettings

QUICK = RetryPolicy(window_s=30.0, backoff_s=0.001, max_backoff_s=0.002)


class Flaky:
    """Raises each of ``failures`` in turn, then returns ``"done"``; counts its calls."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


def test_transient_failures_are_retried_until_the_call_succeeds() -> None:
    call = Flaky(VidiCoreUnavailable("no answer"), StorageUnavailable("b/k", "SlowDown"), VidiCoreUnavailable("503"))

    assert with_retries(QUICK, "a test call", call) == "done"
    assert call.calls == 4


@pytest.mark.parametrize("failure", [NotFound("no item"), JobParameterError("x", "y", "bad")])
def test_a_lasting_failure_is_raised_at_once(failure: Exception) -> None:
    call = Flaky(failure)

    with pytest.raises(type(failure)):
        with_retries(QUICK, "a test call", call)
    assert call.calls == 1


def test_a_transient_failure_outlasting_the_window_is_raised_as_it_is() -> None:
    outage = VidiCoreUnavailable("cannot connect")
    policy = RetryPolicy(window_s=0.01, backoff_s=0.001, max_backoff_s=0.001)

    with pytest.raises(VidiCoreUnavailable) as caught:
        with_retries(policy, "a test call", Flaky(*[outage] * 10_000))
    assert caught.value is outage


def test_the_policy_comes_from_the_service_settings() -> None:
    settings = ServiceSettings(retry_window_s=12.0, retry_backoff_s=0.25, retry_max_backoff_s=2.0)

    assert RetryPolicy.from_settings(settings) == RetryPolicy(12.0, 0.25, 2.0)
