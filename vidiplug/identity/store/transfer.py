"""copy_store: copy every table of one identity store into another, empty one (``vidiplug store migrate``)."""

from __future__ import annotations

from vidiplug.errors import StoreError
from vidiplug.identity.store.protocol import TABLES, IdentityStore


def copy_store(source: IdentityStore, target: IdentityStore) -> dict[str, int]:
    """Copy every row of ``source`` into ``target``; returns rows copied per table (TABLES order).

    Vectors keep their engine, model and version. Raises StoreError when ``target`` already
    holds identities (a second run would duplicate vectors) or a row cannot be written.
    """
    held = target.count()
    if held:
        raise StoreError(f"{target.where} already holds {held} identities; migrate into an empty store")
    return {table: target.insert_rows(table, source.table_rows(table)) for table in TABLES}
