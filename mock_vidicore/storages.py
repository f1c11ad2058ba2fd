"""Storage endpoints (`/API/storage`) and where a raw upload to a storage lands.

A storage is a list of methods, each a URI (`file:///srv/media/`,
`s3://key:secret@bucket/prefix/`) with read/write/browse flags. The mock writes
only to `file://` methods; other schemes are stored and shown, never contacted.
Method URIs are returned as registered (credentials included, like callback
locations); logs and errors mask them through :mod:`mock_vidicore.redaction`.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from mock_vidicore.context import Context
from mock_vidicore.documents import as_list
from mock_vidicore.errors import invalid_input
from mock_vidicore.model import Storage, StorageMethod, now_iso
from mock_vidicore.redaction import redact
from mock_vidicore.web import Request, Response, Router, document_response, text_response

log = logging.getLogger("mock_vidicore.storage")

# VidiCore's storage types and states (the lists are unconfirmed; see README).
STORAGE_TYPES = ("LOCAL", "SHARED", "REMOTE", "EXTERNAL", "EXPORT", "ARCHIVE")
STORAGE_STATES = ("NONE", "READY", "OFFLINE", "FAILED", "DISABLED", "EVALUATING")
_SCHEME = re.compile(r"(?i)^[a-z][a-z0-9+.-]*://")


def storage_document(storage: Storage) -> dict[str, Any]:
    """The StorageDocument (JSON form) of a storage."""
    doc: dict[str, Any] = {
        "id": storage.id, "state": storage.state, "type": storage.type,
        "timestamp": storage.timestamp,
        "method": [{"id": m.id, "uri": m.uri, "read": m.read, "write": m.write,
                    "browse": m.browse, "type": m.type} for m in storage.methods]}
    if storage.metadata:
        doc["metadata"] = {"field": [{"key": k, "value": v} for k, v in storage.metadata.items()]}
    return doc


def _flag(method: dict[str, Any], name: str) -> bool:
    value = method.get(name, True)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise invalid_input("storage", f"method <{name}> must be true or false", value=str(value))


def _file_folder(uri: str) -> Path | None:
    """The local folder of a `file://` URI (None for any other scheme); 400 if it is not local."""
    parts = urlsplit(uri)
    if parts.scheme.lower() != "file":
        return None
    path = unquote(parts.path)
    if parts.netloc not in ("", "localhost") or not path.startswith("/"):
        raise invalid_input("storage", "a file:// method needs an absolute local path "
                            "(file:///folder/)", value=uri)
    return Path(os.path.normpath(path))


def _method(data: Any) -> StorageMethod:
    if not isinstance(data, dict):
        raise invalid_input("storage", "<method> must hold child elements")
    uri = data.get("uri")
    if not isinstance(uri, str) or not _SCHEME.match(uri.strip()):
        # No value echoed: without `scheme://` the redaction could not spot `key:secret@`.
        raise invalid_input("storage", "a method needs a <uri> with a scheme (file:///, s3://)")
    uri = uri.strip()
    _file_folder(uri)
    method_type = data.get("type") or "NONE"
    if not isinstance(method_type, str):
        raise invalid_input("storage", "method <type> must be text")
    return StorageMethod(id="", uri=uri, read=_flag(data, "read"), write=_flag(data, "write"),
                         browse=_flag(data, "browse"), type=method_type)


def _metadata(doc: dict[str, Any]) -> dict[str, str]:
    metadata = doc.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise invalid_input("storage", "<metadata> must hold <field> elements")
    pairs: dict[str, str] = {}
    for entry in as_list(metadata.get("field")):
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            raise invalid_input("storage", "a metadata <field> needs a <key> and a <value>")
        pairs[entry["key"]] = str(entry.get("value", ""))
    return pairs


def new_storage(ctx: Context, doc: dict[str, Any]) -> Storage:
    """A Storage from a StorageDocument (JSON form): checked first, then given ids; not stored."""
    storage_type = doc.get("type") or "LOCAL"
    state = doc.get("state") or "READY"
    if storage_type not in STORAGE_TYPES:
        raise invalid_input("storage", f"<type> must be one of {STORAGE_TYPES}",
                            value=str(storage_type))
    if state not in STORAGE_STATES:
        raise invalid_input("storage", f"<state> must be one of {STORAGE_STATES}", value=str(state))
    methods_data = as_list(doc.get("method"))
    if not methods_data:
        raise invalid_input("storage", "a StorageDocument needs at least one <method>")
    metadata = _metadata(doc)
    methods = [_method(method) for method in methods_data]
    storage = Storage(id=ctx.store.next_id("storage"), type=storage_type, state=state,
                      timestamp=now_iso(), methods=methods, metadata=metadata)
    for method in methods:
        method.id = ctx.store.next_id("storage-method")
    return storage


def import_storage(ctx: Context, request: Request) -> Storage | None:
    """The storage named by `storageId=` (None without one); 404 `notFound` type Storage."""
    storage_id = request.arg("storageId")
    return ctx.store.storage(storage_id) if storage_id else None


def upload_folder(storage: Storage) -> Path | None:
    """Where a raw upload to ``storage`` is written: the folder of its first writable method
    when that method is `file://`, otherwise None (the caller falls back to `--data-dir`).

    A storage without any writable method gets 400.
    """
    for method in storage.methods:
        if method.write:
            return _file_folder(method.uri)
    raise invalid_input("storageId", f"storage {storage.id} has no writable method",
                        entity_id=storage.id)


def register(router: Router, ctx: Context) -> None:
    """Add the storage routes to ``router``."""
    store = ctx.store

    def list_storages(request: Request) -> Response:
        with store.lock:
            found = list(store.storages.values())
            if request.wants_text:
                return text_response("\r\n".join(s.id for s in found))
            return document_response(request, "StorageListDocument",
                                     {"storage": [storage_document(s) for s in found]})

    def create(request: Request) -> Response:
        doc = request.document("StorageDocument")
        with store.transaction():
            storage = new_storage(ctx, doc)
            store.storages[storage.id] = storage
            uris = " ".join(m.uri for m in storage.methods)
            log.info(redact(f"storage {storage.id} registered: {storage.type} {uris}"))
            return document_response(request, "StorageDocument", storage_document(storage))

    def get(request: Request) -> Response:
        with store.lock:
            return document_response(request, "StorageDocument",
                                     storage_document(store.storage(request.params["id"])))

    def delete(request: Request) -> Response:
        with store.transaction():
            del store.storages[store.storage(request.params["id"]).id]
        return text_response("")

    router.add("GET", "storage", list_storages)
    router.add("POST", "storage", create)
    router.add("GET", "storage/{id}", get)
    router.add("DELETE", "storage/{id}", delete)
