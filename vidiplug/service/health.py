"""What ``/health`` reports: registration, last successful poll, running jobs, whether the stores answer.

Part of the service room; reads the poller and the stores, changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from vidiplug.errors import VidiplugError
from vidiplug.identity.store import IdentityStore
from vidiplug.logs import redact
from vidiplug.storage.callback_store import CallbackStore


@dataclass(frozen=True)
class StoreHealth:
    """Whether a store answered, and the one-line reason (redacted) when it did not."""

    reachable: bool
    error: str | None = None


@dataclass(frozen=True)
class HealthReport:
    """The service's state for operators and load balancers; ``healthy`` sums it up.

    ``last_poll`` is the ISO time of the last poll that reached VidiCore (None before the
    first), ``last_poll_age_s`` its age in seconds. Healthy means: registered, a poll
    succeeded within ``stale_poll_after_s``, and both stores answer. ``mode`` is the
    integration mode; ``resource_id`` and ``callback_id`` stay None in direct mode, which
    registers no resource.
    """

    healthy: bool
    instance: str
    mode: str
    registered: bool
    resource_id: str | None
    callback_id: str | None
    last_poll: str | None
    last_poll_age_s: float | None
    running_jobs: list[str]
    identity_store: StoreHealth
    callback_store: StoreHealth

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict (``status`` is ``ok`` or ``degraded``)."""
        return {"status": "ok" if self.healthy else "degraded", **asdict(self)}


def probe_identity_store(store: IdentityStore, secrets: tuple[str, ...] = ()) -> StoreHealth:
    """Whether the identity store can be read (one count query)."""
    try:
        store.count()
    except VidiplugError as exc:
        return StoreHealth(False, redact(str(exc), secrets))
    return StoreHealth(True)


def probe_callback_store(store: CallbackStore, secrets: tuple[str, ...] = ()) -> StoreHealth:
    """Whether the callback location takes a write (a probe object, put then deleted)."""
    try:
        store.check()
    except VidiplugError as exc:
        return StoreHealth(False, redact(str(exc), secrets))
    return StoreHealth(True)


def build_health(*, instance: str, mode: str, registered: bool, resource_id: str | None, callback_id: str | None,
                 last_poll_unix_s: float | None, running_jobs: list[str], stale_poll_after_s: float,
                 identity_store: Callable[[], StoreHealth], callback_store: Callable[[], StoreHealth]) -> HealthReport:
    """A HealthReport from the service's parts; the store probes are called now."""
    age_s = None if last_poll_unix_s is None else max(0.0, time.time() - last_poll_unix_s)
    when = None if last_poll_unix_s is None else datetime.fromtimestamp(last_poll_unix_s, UTC).isoformat()
    identity, callback = identity_store(), callback_store()
    healthy = (registered and age_s is not None and age_s <= stale_poll_after_s
               and identity.reachable and callback.reachable)
    age = None if age_s is None else round(age_s, 3)
    return HealthReport(healthy, instance, mode, registered, resource_id, callback_id, when, age,
                        sorted(running_jobs), identity, callback)
