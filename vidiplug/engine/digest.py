"""The sha256 of files, read in blocks: model version stamps and content keys of images."""

from __future__ import annotations

import hashlib
from pathlib import Path

_BLOCK_BYTES = 1 << 20


def files_sha256(*paths: Path) -> str:
    """Hex sha256 over the files' bytes in order. Raises OSError when a file cannot be read."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK_BYTES), b""):
                digest.update(block)
    return digest.hexdigest()
