"""``vidiplug store migrate SRC DST``: copy a SQLite identity store into PostgreSQL and say what was copied."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vidiplug.errors import StoreError
from vidiplug.identity.store import copy_store, is_postgres_url, open_store, redact_url


def run_store(args: argparse.Namespace) -> int:
    """Run the ``store`` action named in ``args`` (only ``migrate`` so far); returns the exit code."""
    return run_migrate(args.source, args.target)


def run_migrate(source: str, target: str) -> int:
    """Copy the SQLite store ``source`` into the empty store ``target``; prints one line per table, then a total.

    Raises StoreError when ``source`` is not a SQLite file, is missing, or ``target`` is not empty.
    """
    if is_postgres_url(source):
        raise StoreError(f"{redact_url(source)}: SRC must be a SQLite store file")
    if not Path(source).expanduser().is_file():
        raise StoreError(f"{source}: no such SQLite store")
    with open_store(source) as src, open_store(target) as dst:
        copied = copy_store(src, dst)
    for table, count in copied.items():
        print(f"{table}: {count}")
    print(f"vidiplug: copied {sum(copied.values())} rows from {source} to {redact_url(target)}", file=sys.stderr)
    return 0
