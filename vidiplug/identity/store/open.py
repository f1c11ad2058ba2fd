"""open_store: the identity store a ``store.url`` names (a SQLite path or a ``postgresql://`` URL)."""

from __future__ import annotations

from pathlib import Path

from vidiplug.identity.store.address import is_postgres_url
from vidiplug.identity.store.protocol import IdentityStore
from vidiplug.identity.store.sqlite import SqliteStore


def open_store(url: str | Path) -> IdentityStore:
    """The store at ``url``: PostgresStore for ``postgresql://…``, else SqliteStore for the file path.

    Raises StoreError (without the password) when it cannot be opened.
    """
    text = str(url)
    if is_postgres_url(text):
        from vidiplug.identity.store.postgres import (
            PostgresStore,  # psycopg only when PostgreSQL is used
        )

        return PostgresStore(text)
    return SqliteStore(Path(text).expanduser())
