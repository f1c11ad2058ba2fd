"""Command line: `python -m mock_vidicore` / `mock-vidicore` serves the mock over waitress.

With `--port 0` the bound base URL is the first line on stdout (flushed).
SIGINT and SIGTERM stop the server, the callback executor, and save state.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType

from waitress.server import BaseWSGIServer, create_server

from mock_vidicore.app import MockApp
from mock_vidicore.bridge import describe
from mock_vidicore.callbacks import CallbackExecutor
from mock_vidicore.context import Context, Settings
from mock_vidicore.redaction import RedactingFilter
from mock_vidicore.state import Store


class _Stop(KeyboardInterrupt):
    """Raised from the signal handler. A KeyboardInterrupt because waitress's event loop
    re-raises only KeyboardInterrupt/SystemExit and hands anything else to handle_error."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options (see README for each)."""
    parser = argparse.ArgumentParser(prog="mock-vidicore", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 = pick a free port")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--state", type=Path, help="JSON file; state survives restarts")
    parser.add_argument("--data-dir", type=Path, help="where raw uploads are stored")
    parser.add_argument("--max-body-bytes", type=int, default=64 * 1024 * 1024)
    parser.add_argument("--s3-endpoint", help="S3 endpoint URL for callback locations")
    parser.add_argument("--poll-interval-s", type=float, default=1.0)
    parser.add_argument("--script-time-limit-s", type=float, default=30.0)
    parser.add_argument("--import-delay-s", type=float, default=0.0,
                        help="an import job stays STARTED at least this long; its shape appears when it finishes")
    parser.add_argument("--bridge", action="store_true",
                        help="also answer the invented job calls (claim/progress/status) and apply "
                             "service configuration bodies; a real VidiCore does neither")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def _setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def main(argv: list[str] | None = None) -> int:
    """Run the server until SIGINT/SIGTERM; return the exit status."""
    args = parse_args(argv)
    _setup_logging(args.log_level)
    scratch = None
    data_dir = args.data_dir
    if data_dir is None and args.state is not None:
        data_dir = args.state.with_name(args.state.name + ".files")
    if data_dir is None:
        data_dir = scratch = Path(tempfile.mkdtemp(prefix="mock_vidicore_"))
    settings = Settings(host=args.host, port=args.port, users={args.user: args.password},
                        state_file=args.state, data_dir=data_dir.resolve(),
                        max_body_bytes=args.max_body_bytes, s3_endpoint=args.s3_endpoint,
                        poll_interval_s=args.poll_interval_s,
                        script_time_limit_s=args.script_time_limit_s, threads=args.threads,
                        import_delay_s=args.import_delay_s, bridge=args.bridge)
    ctx = Context(settings=settings, store=Store(args.state))
    app = MockApp(ctx)
    server = create_server(app, host=args.host, port=args.port, threads=args.threads,
                           max_request_body_size=args.max_body_bytes * 4 + 1024 * 1024,
                           ident="mock_vidicore")
    if not isinstance(server, BaseWSGIServer):  # waitress listens on several sockets: no one base URL
        server.close()
        raise SystemExit(f"mock_vidicore: --host {args.host} names more than one address")
    host = args.host if ":" not in args.host else f"[{args.host}]"
    ctx.base_url = f"http://{host}:{server.getsockname()[1]}"
    executor = CallbackExecutor(ctx)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stop(signum)

    executor.start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        print(ctx.base_url, flush=True)
        logging.getLogger("mock_vidicore").info("serving %s/API", ctx.base_url)
        logging.getLogger("mock_vidicore").info("%s", describe(settings.bridge))
        server.run()
    except _Stop:
        logging.getLogger("mock_vidicore").info("stopping")
    finally:
        executor.stop()
        server.close()
        ctx.store.save()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
