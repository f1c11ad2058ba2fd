"""The identity store: one Protocol (IdentityStore), a SQLite and a PostgreSQL implementation, and open_store.

Imports engine and identity types only (psycopg only inside the PostgreSQL backend).
"""

from vidiplug.identity.store.address import is_postgres_url, redact_url
from vidiplug.identity.store.open import open_store
from vidiplug.identity.store.protocol import (
           MAX_NAME_CHARS,
           TABLES,
           IdentityStore,
           IdentitySummary,
           WorkClaim,
           clean_name,
)
from vidiplug.identity.store.sqlite import SCHEMA_VERSION, SqliteStore
from vidiplug.identity.store.transfer import copy_store

__all__ = ["MAX_NAME_CHARS", "SCHEMA_VERSION", "TABLES", "IdentityStore", "IdentitySummary", "SqliteStore",
           "WorkClaim", "clean_name", "copy_store", "is_postgres_url", "open_store", "redact_url"]
