"""``vidiplug serve`` and ``vidiplug check``: run the VidiCore service, or prove its configuration works.

Part of the CLI room: prints, reads the environment, maps outcomes to exit codes.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TextIO

from vidiplug.errors import ConfigError, VidiplugError
from vidiplug.logs import redact, setup_logging
from vidiplug.service.folders import check_folder
from vidiplug.settings import Settings, load_settings

log = logging.getLogger("vidiplug.cli")
Check = tuple[str, Callable[[Settings], str]]


def load_config(path: Path | None) -> Settings:
    """Settings from ``path`` (None: environment and defaults only), then ``VIDIPLUG_<SECTION>__<KEY>``."""
    return load_settings(path, os.environ)


def run_serve(args: argparse.Namespace) -> int:
    """Register with VidiCore and run jobs until SIGINT/SIGTERM; running jobs are finished first."""
    from vidiplug.service.app import ServiceApp

    settings = load_config(args.config)
    setup_logging(settings.service.log_level, secrets=settings.secrets())
    app = ServiceApp(settings, instance=args.instance)

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the running jobs", signum)
        app.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        registration = app.start()
        if registration.resource_id is None:
            where = f"in direct mode from analysis queue {registration.queue_collection_id} ("
        else:
            where = f"as resource {registration.resource_id} (callback {registration.callback_id}, "
        say(f"vidiplug: serving {where}instance {app.instance}); stop with Ctrl-C", settings.secrets(),
            file=sys.stderr)
        app.wait()
    finally:
        app.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def say(line: str, secrets: tuple[str, ...], file: TextIO | None = None) -> None:
    """Print ``line`` with every credential redacted (see ``vidiplug.logs.redact``).

    The only way serve and check print.
    """
    print(redact(line, secrets), file=file if file is not None else sys.stdout)


def _check_vidicore(settings: Settings) -> str:
    from vidiplug.vidicore.client import VidiCoreClient

    vc = settings.vidicore
    with VidiCoreClient(vc.url, vc.user, vc.password.reveal(), timeout_s=vc.timeout_s) as client:
        if vc.mode == "direct":  # no resource in direct mode: the analysis queue is what serve makes
            queue = settings.service.analysis_queue
            found = client.find_collection(queue)
            state = f"exists as {found}" if found else "not created yet (serve creates it)"
            return f"VidiCore at {vc.url} answers as user {vc.user!r}; analysis queue {queue!r} {state}"
        services = client.list_resources("vidinet")
    ours = [r for r in services if r.url_or_uri == f"vidinet://{vc.resource_name}@vidiplug"]
    state = f"registered as {ours[0].id}" if ours else "not registered yet (serve registers it)"
    return f"VidiCore at {vc.url} answers as user {vc.user!r}; resource {vc.resource_name!r} {state}"


def mode_line(settings: Settings) -> str:
    """Which ``vidicore.mode`` the service runs in, and what a real VidiCore's administrator must still provide."""
    from vidiplug.storage.location import S3Location

    try:
        bucket = f"the callback bucket {S3Location.from_settings(settings.callback).uri}"
    except VidiplugError:
        bucket = "the callback bucket (callback.uri)"
    if settings.vidicore.mode == "direct":
        return (f"mode  direct (vidicore.mode): VidiCore's documented API only, polled every "
                f"{settings.service.poll_interval_s:g} s (service.poll_interval_s; no notifications used); "
                f"VidiCore needs read access to {bucket}: face crops are imported from s3:// URIs there")
    return (f"mode  bridge (vidicore.mode): VidiCore needs a VidiCore-side counterpart for the job hand-off "
            f"(mock_vidicore --bridge is one; a stock VidiCore has none), and its callback executor needs S3 "
            f"access to {bucket}")


def _check_callback(settings: Settings) -> str:
    from vidiplug.storage.callback_store import CallbackStore

    with CallbackStore.from_settings(settings.callback) as store:
        store.check()
        return f"callback location {store.location} is writable"


def _check_engine(settings: Settings) -> str:
    from vidiplug.engine import load_engine

    engine = load_engine(settings.engine)
    try:
        info = engine.info
        return f"face engine {info.name} ({info.model}) loads"
    finally:
        close = getattr(engine, "close", None)
        if callable(close):
            close()


def _check_store(settings: Settings) -> str:
    from vidiplug.identity.store import open_store

    if settings.store.is_postgres():
        with open_store(settings.store.resolved_url()) as store:
            return f"identity store {store.where} opens ({store.count()} identities)"
    path = settings.store.resolved_path()
    folder = check_folder(path.parent, "store.path's folder", settings.service.min_free_bytes, may_be_created=True)
    with open_store(path) as store:
        count = store.count()
    return f"identity store {path} opens ({count} identities); {folder}"


def _check_work_dir(settings: Settings) -> str:
    work_dir = settings.service.work_dir
    path = work_dir if work_dir is not None else Path(tempfile.gettempdir())
    return check_folder(path, "service.work_dir", settings.service.min_free_bytes)


def _check_cache(settings: Settings) -> str:
    from vidiplug.engine.config import default_cache_dir

    return check_folder(default_cache_dir(), "engine cache", settings.service.min_free_bytes, may_be_created=True)


def _check_models(settings: Settings) -> str:
    """The custom-insight models: every installed and configured one is listed, those of models.run load."""
    from vidiplug.plugins import available_models, load_models

    entries = available_models(settings.models)
    try:
        load_models(settings.models.run, settings.models)
    except VidiplugError as exc:
        raise ConfigError(f"models.run: {exc}") from None
    shown = ", ".join(f"{e.name} ({e.kind})" for e in entries) or "none"
    runs = ", ".join(settings.models.run) or "none unless a job names them"
    return f"custom models: {shown}; every analysis runs: {runs}"


CHECKS: tuple[Check, ...] = (
    ("vidicore", _check_vidicore), ("callback", _check_callback), ("work_dir", _check_work_dir),
    ("store", _check_store), ("cache", _check_cache), ("engine", _check_engine), ("models", _check_models),
)


def run_check(args: argparse.Namespace) -> int:
    """Validate the configuration, then reach VidiCore, the callback location, the folders, the store and the engine.

    Prints one line per check (``ok`` or ``FAIL`` and the reason), and after the configuration's
    a ``mode`` line: the integration mode and what VidiCore's administrator must still
    provide for it (``mode_line``). Every line is redacted; exit
    code 0 only when all pass. The folders (work_dir, the store's folder, the engine cache)
    must exist (the cache may be created), be writable and have ``service.min_free_bytes`` free.
    """
    settings = load_config(args.config)  # a ConfigError here is the one-line answer
    secrets = settings.secrets()
    say(f"ok    configuration {args.config or '(environment and defaults)'} is valid", secrets)
    say(mode_line(settings), secrets)
    failed = 0
    for name, check in CHECKS:
        try:
            say(f"ok    {check(settings)}", secrets)
        except VidiplugError as exc:
            failed += 1
            message = str(exc)
            say(f"FAIL  {message if message.startswith(name + ':') else f'{name}: {message}'}", secrets)
    return 0 if failed == 0 else 2
