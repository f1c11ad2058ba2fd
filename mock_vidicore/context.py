"""What every handler module is built with: settings, the store and change-set stamping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mock_vidicore.metadata import Stamp
from mock_vidicore.model import now_iso
from mock_vidicore.state import Store
from mock_vidicore.web import Request, Response


@dataclass(frozen=True)
class Settings:
    """Server settings, one per process, from the command line.

    ``max_body_bytes``: larger request bodies get 413. ``poll_interval_s``: how
    often the callback executor lists S3 for jobs in VIDINET_JOB.
    ``script_time_limit_s``: wall-clock limit per callback script.
    ``import_delay_s``: an import job is STARTED for at least this long before it
    finishes and its shape appears (imports are asynchronous jobs, as on VidiCore).
    ``s3_endpoint``: S3 endpoint URL for callback locations without their own
    `?endpoint=` (None = AWS). ``bridge``: also answer the invented job calls and apply
    service configuration from the mock (see :mod:`mock_vidicore.bridge`); off by default.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    users: dict[str, str] = field(default_factory=lambda: {"admin": "admin"})
    state_file: Path | None = None
    data_dir: Path = Path("mock_vidicore_data")
    max_body_bytes: int = 64 * 1024 * 1024
    s3_endpoint: str | None = None
    poll_interval_s: float = 1.0
    script_time_limit_s: float = 30.0
    import_delay_s: float = 0.0
    script_memory_limit_bytes: int = 64 * 1024 * 1024
    threads: int = 8
    bridge: bool = False


@dataclass
class Context:
    """Handlers' shared world: settings, store and the base URL clients see."""

    settings: Settings
    store: Store
    base_url: str = ""
    dispatch: Callable[[Request], Response] | None = None

    def stamp(self, user: str) -> Stamp:
        """A new change set stamp for ``user`` (allocates a `change` id)."""
        return Stamp(user=user, timestamp=now_iso(), change=self.store.next_id("change"))
