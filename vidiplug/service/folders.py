"""The folders the service writes: a scratch folder per job, and the checks ``vidiplug check`` runs on them.

Part of the service room; touches only the local file system.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from vidiplug.errors import ConfigError

_UNSAFE = re.compile(r"[^A-Za-z0-9-]")


def make_job_folder(work_dir: Path | None, job_id: str) -> Path:
    """A new, empty scratch folder for job ``job_id`` inside ``work_dir`` (None = the system's temporary folder).

    Raises ConfigError naming ``service.work_dir`` when the folder cannot be made (missing,
    not a folder, not writable, full), so the job fails at once with that reason.
    """
    prefix = f"vidiplug-{_UNSAFE.sub('_', job_id)[:40]}-"
    try:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=work_dir))
    except OSError as exc:
        where = work_dir if work_dir is not None else Path(tempfile.gettempdir())
        raise ConfigError(f"service.work_dir {where}: cannot create a job folder there "
                          f"({exc.strerror or type(exc).__name__})") from exc


def check_folder(path: Path, key: str, min_free_bytes: int, *, may_be_created: bool = False) -> str:
    """A one-line report that ``path`` exists, is writable and has ``min_free_bytes`` free; ConfigError if not.

    ``key`` names the setting the folder comes from (``service.work_dir``). With
    ``may_be_created`` a missing folder is fine when its nearest existing parent passes the
    same tests (the service makes it on first use, like the engine cache).
    """
    target = path
    if not path.exists() and may_be_created:
        target = next((p for p in path.parents if p.exists()), Path("/"))
    if not target.exists():
        raise ConfigError(f"{key} {path}: does not exist")
    if not target.is_dir():
        raise ConfigError(f"{key} {target}: is not a folder")
    try:
        with tempfile.TemporaryFile(dir=target):
            pass
    except OSError as exc:
        raise ConfigError(f"{key} {target}: is not writable ({exc.strerror or type(exc).__name__})") from exc
    free = shutil.disk_usage(target).free
    if free < min_free_bytes:
        raise ConfigError(f"{key} {target}: only {_size(free)} free, below service.min_free_bytes "
                          f"({_size(min_free_bytes)})")
    created = "" if target == path else f" (to be created in {target})"
    return f"{key} {path}{created} is writable, {_size(free)} free"


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"
