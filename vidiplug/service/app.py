"""The service: build everything from Settings once, register, poll jobs, watch unknown items until stopped."""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
from types import TracebackType

from vidiplug.engine import load_engine
from vidiplug.engine.base import Engine
from vidiplug.identity.store import open_store
from vidiplug.service.autotrain import AutoTrainer
from vidiplug.service.health import HealthReport, StoreHealth, build_health, probe_callback_store, probe_identity_store
from vidiplug.service.metrics import ServiceMetrics
from vidiplug.service.poller import JobPoller
from vidiplug.service.registration import Registration, register
from vidiplug.service.request_poller import RequestPoller
from vidiplug.service.runner import JobContext
from vidiplug.service.status_server import StatusServer
from vidiplug.service.unknowns_watch import UnknownsWatch
from vidiplug.settings import Settings
from vidiplug.storage.callback_store import CallbackStore
from vidiplug.vidicore.client import VidiCoreClient

log = logging.getLogger("vidiplug.service")


def default_instance_name(settings: Settings) -> str:
    """Stable per host and resource, so a restarted service recognises its own claims."""
    return f"{socket.gethostname()}:{settings.vidicore.resource_name}"


class ServiceApp:
    """Owns the engine, the identity store, the poller, the unknowns watch and the autotrainer.

    Runs them between ``start()`` and ``stop()``.

    ``instance`` names this process in job claims (two instances on one VidiCore need
    different names). ``engine``: an engine to use instead of loading the configured one
    (the caller keeps owning it: ``stop()`` closes only an engine the app loaded).
    """

    def __init__(self, settings: Settings, instance: str | None = None, engine: Engine | None = None) -> None:
        self.settings = settings
        self.instance = instance or default_instance_name(settings)
        self._owns_engine = engine is None
        self.engine = engine if engine is not None else load_engine(settings.engine)
        self.store = open_store(settings.store.resolved_url())
        self.metrics = ServiceMetrics()
        self.context = JobContext(self.engine, self.store, settings, self.client, self.instance, metrics=self.metrics)
        self.registration: Registration | None = None
        self.poller: JobPoller | RequestPoller | None = None
        self.unknowns_watch: UnknownsWatch | None = None
        self.autotrainer: AutoTrainer | None = None
        self.status_server: StatusServer | None = None
        self._callback_probe: CallbackStore | None = None
        self._stopped = threading.Event()

    def client(self) -> VidiCoreClient:
        """A new VidiCore client (requests sessions are not shared between threads)."""
        vc = self.settings.vidicore
        return VidiCoreClient(vc.url, vc.user, vc.password.reveal(), timeout_s=vc.timeout_s)

    def start(self) -> Registration:
        """Register with VidiCore, start polling and watching unknown items; what registering made or found.

        ``vidicore.mode`` decides how: ``bridge`` polls VidiCore's jobs addressed to our
        resource (JobPoller); ``direct`` polls the analysis queue and the training request
        field, claiming through the identity store (RequestPoller).
        """
        with self.client() as client:
            self.registration = register(client, self.settings)
        # Merge/relabel jobs started by a UI name no callback resource: they use ours.
        self.context = dataclasses.replace(self.context, callback_id=self.registration.callback_id)
        if self.registration.resource_id is None:
            self.poller = RequestPoller(self.context, self.registration)
        else:
            self.poller = JobPoller(self.context, self.registration.resource_id)
        self.poller.start()
        self.unknowns_watch = UnknownsWatch(self.context, self.registration.resource_id)
        self.unknowns_watch.start()
        service = self.settings.service
        if service.autotrain:
            self.autotrainer = AutoTrainer(self.client, self.registration, self.settings, self.store)
            self.autotrainer.start()
        self._start_status_server()
        log.info("vidiplug service %s (%s mode) polling every %.1f s with %d workers, "
                 "watching unknown items every %.1f s, "
                 "autotrain %s", self.instance, self.settings.vidicore.mode, service.poll_interval_s, service.workers,
                 service.unknowns_watch_interval_s,
                 f"after {service.autotrain_debounce_s:g} s of quiet" if service.autotrain else "off")
        return self.registration

    def _start_status_server(self) -> None:
        """Serve /health and /metrics unless ``status_port`` is -1; a port in use is logged, not fatal."""
        service = self.settings.service
        if service.status_port < 0:
            return
        self._callback_probe = CallbackStore.from_settings(self.settings.callback)
        try:
            self.status_server = StatusServer(service.status_bind, service.status_port, self.health, self.metrics)
        except OSError as exc:
            log.error("no status endpoint: cannot listen on %s port %d (%s); set service.status_port",
                      service.status_bind, service.status_port, exc.strerror or exc)
            return
        self.status_server.start()
        log.info("status endpoint at %s/health and %s/metrics", self.status_server.url, self.status_server.url)

    def health(self) -> HealthReport:
        """Registration, last successful poll, running jobs and whether the stores answer (probed now)."""
        service = self.settings.service
        secrets = self.settings.secrets()
        probe = self._callback_probe
        poller, registration = self.poller, self.registration
        return build_health(
            instance=self.instance,
            mode=self.settings.vidicore.mode,
            registered=registration is not None,
            resource_id=registration.resource_id if registration else None,
            callback_id=registration.callback_id if registration else None,
            last_poll_unix_s=poller.last_poll_unix_s if poller else None,
            running_jobs=poller.running_jobs() if poller else [],
            # Three missed polls, each allowed VidiCore's whole timeout, before the service counts as stale.
            stale_poll_after_s=3 * (service.poll_interval_s + self.settings.vidicore.timeout_s),
            identity_store=lambda: probe_identity_store(self.store, secrets),
            callback_store=lambda: probe_callback_store(probe, secrets) if probe else StoreHealth(False, "not started"),
        )

    def wait(self) -> None:
        """Block until ``stop()`` is called (from a signal handler or another thread)."""
        self._stopped.wait()

    def stop(self) -> None:
        """Stop polling, let running jobs finish, release resources (idempotent)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self.status_server is not None:
            self.status_server.stop()
        if self.autotrainer is not None:
            self.autotrainer.stop()
        if self.unknowns_watch is not None:
            self.unknowns_watch.stop()
        if self.poller is not None:
            self.poller.stop(wait=True)
        self.store.close()
        if self._callback_probe is not None:
            self._callback_probe.close()
        close = getattr(self.engine, "close", None) if self._owns_engine else None
        if callable(close):
            close()

    def __enter__(self) -> ServiceApp:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
