"""Locate, read and version the static callback JavaScript in the repository's ``callback_scripts/``.

Callbacks room: pure (reads packaged files only); imports nothing from vidiplug but the error tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from vidiplug.errors import CallbackError

SCRIPTS_PACKAGE = "vidiplug.callback_scripts"
COMMON_FILE = "common.js"
# An editable install or a source checkout: <repository>/vidiplug/callbacks/scripts.py.
REPOSITORY_SCRIPTS = Path(__file__).resolve().parents[2] / "callback_scripts"


class ScriptName(str, Enum):
    """The callback scripts vidiplug ships; the value is the file name without ``.js``."""

    ANALYZE_UNKNOWNS = "analyze_unknowns"
    ANALYZE_METADATA = "analyze_metadata"
    ANALYZE_TRACKS = "analyze_tracks"
    ANALYZE_INSIGHTS = "analyze_insights"
    TRAIN_RESULT = "train_result"
    RELABEL = "relabel"


@dataclass(frozen=True)
class CallbackScript:
    """One callback script ready to follow the ``var DATA = ...;`` line.

    ``text`` is ``common.js`` (the shared helpers) followed by the script itself;
    ``version`` is ``sha256:`` and the first 16 hex digits of the SHA-256 of ``text``, so
    any change to either file gives a new version (logged by the scripts, shown in the
    CallbackDocument's description).
    """

    name: ScriptName
    text: str
    version: str


def script_roots() -> Iterator[Traversable]:
    """Where scripts are looked for, in order.

    First the package ``vidiplug.callback_scripts`` through ``importlib.resources`` (in a
    checkout a link to ``callback_scripts/``, which wheels carry as files), then
    ``callback_scripts/`` beside the ``vidiplug`` package (a checkout whose link was lost,
    e.g. on a file system without symbolic links).
    """
    try:
        package: Traversable | None = resources.files(SCRIPTS_PACKAGE)
    except ModuleNotFoundError:  # not installed as a package: only the repository folder
        package = None
    if package is not None:
        yield package
    yield REPOSITORY_SCRIPTS


def read_script_file(filename: str) -> str:
    """The UTF-8 text of ``filename`` from the first root that has it.

    Raises CallbackError naming every place looked in when no root has it.
    """
    looked: list[str] = []
    for root in script_roots():
        candidate = root / filename
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
        looked.append(str(candidate))
    raise CallbackError(f"callback script {filename} not found (looked in {', '.join(looked)}); reinstall vidiplug")


@cache
def load_script(name: ScriptName) -> CallbackScript:
    """The script ``name``, with the shared helpers in front and its content version.

    Read once per process and cached (the files are static). Raises CallbackError when a
    file is missing.
    """
    script = ScriptName(name)
    text = read_script_file(COMMON_FILE) + "\n" + read_script_file(f"{script.value}.js")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return CallbackScript(name=script, text=text, version=f"sha256:{digest}")
