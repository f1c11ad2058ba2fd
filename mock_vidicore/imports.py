"""Creating items: placeholders, container import by URI or raw bytes, one-shot import (§4.5);
shape import onto an existing item (``POST item/{id}/shape?uri=&tag=``, job type SHAPE_IMPORT).

The mock never transcodes: an import creates one shape holding the file,
tagged with `original` (or the `original=` parameter) plus any `tag=` values.
An import is an asynchronous job, as on VidiCore: the answer is a STARTED JobDocument,
and the shape exists only once the job is FINISHED (finish_imports).
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from mock_vidicore.context import Context
from mock_vidicore.errors import conflict, invalid_input
from mock_vidicore.jobs import create_job, end_job, job_document, job_metadata
from mock_vidicore.metadata import generic_values, write
from mock_vidicore.model import FileRecord, Item, Job, JobState, Shape, Storage, now_iso
from mock_vidicore.storages import import_storage, upload_folder
from mock_vidicore.web import Request, Response, Router, document_response

SCHEMES = ("file", "s3", "http", "https")


def new_item(ctx: Context, request: Request) -> Item:
    """Create an item from an optional MetadataDocument body (caller holds the transaction)."""
    doc = request.document("MetadataDocument", required=False)
    item = Item(id=ctx.store.next_id("item"), user=request.user, created=now_iso())
    if doc:
        write(item.metadata, doc, ctx.store.fields, ctx.store.groups, ctx.stamp(request.user))
    ctx.store.items[item.id] = item
    return item


def checked_uri(uri: str) -> tuple[str, int]:
    """The URI to store (user-info removed) and the file size; 400 for a bad or missing file."""
    parts = urlsplit(uri)
    if parts.scheme not in SCHEMES or (parts.scheme != "file" and not parts.hostname):
        raise invalid_input("uri", f"unsupported URI (schemes: {', '.join(SCHEMES)})", value=uri)
    if parts.scheme == "file":
        path = Path(unquote(parts.path))
        if not path.is_file():
            raise invalid_input("uri", "no such file", value=uri)
        return uri, path.stat().st_size
    netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), 0


def attach_file(ctx: Context, item: Item, uri: str, size: int, request: Request,
                storage_path: str | None = None, filename: str | None = None) -> dict[str, Any]:
    """Check that ``item`` can take a container (409 if it has one) and ``request``'s tags; the
    pending import (what ``finish_imports`` turns into the shape once the import job ends).

    `original=` must be one of the `tag=` values when both are given (400 otherwise, as
    VidiCore documents). The file's `storage` is `storageId=` (checked by the caller); its
    `path` is ``storage_path`` or else the URI's path. ``filename`` (default: the URI's last
    segment) gives the MIME type and `originalFilename`.
    """
    if item.shapes or any(_pending(j) and j.data.get("itemId") == item.id for j in ctx.store.jobs.values()):
        raise conflict("Item", item.id, "the placeholder already has a container")
    path = unquote(urlsplit(uri).path)
    filename = filename or Path(path).name
    wanted = request.args("tag")
    original = request.arg("original")
    if original and wanted and original not in wanted:
        raise invalid_input("original", f"original={original!r} must be one of the tag values {wanted}",
                            value=original)
    tags = [original or request.arg("importTag") or "original"]
    tags += [t for t in wanted if t not in tags]
    return {"uri": uri, "size": size, "path": storage_path or path.lstrip("/"), "filename": filename,
            "tags": tags, "storage": request.arg("storageId"), "user": request.user}


def _attach(ctx: Context, item: Item, pending: dict[str, Any]) -> Shape:
    """Give ``item`` the shape of a finished import."""
    store = ctx.store
    filename = str(pending["filename"])
    mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    file = FileRecord(id=store.next_id("file"), uri=pending["uri"], path=pending["path"],
                      size=int(pending["size"]), timestamp=now_iso(), storage=pending["storage"])
    shape = Shape(id=store.next_id("shape"), tags=list(pending["tags"]), mime_type=mime, file=file,
                  component_id=store.next_id("component"))
    item.shapes.append(shape)
    if not generic_values(item.metadata, "originalFilename"):
        write(item.metadata, {"timespan": [{"start": "-INF", "end": "+INF", "field": [
            {"name": "originalFilename", "value": [{"value": filename}]}]}]},
            store.fields, store.groups, ctx.stamp(str(pending["user"])))
    return shape


PENDING_KEY = "mockPendingImport"  # job data of an import not yet finished (the mock's own)


def _pending(job: Job) -> bool:
    return PENDING_KEY in job.data and job.status == JobState.STARTED.value


def finish_imports(ctx: Context) -> None:
    """End every import job started at least ``import_delay_s`` ago: its shape appears, FINISHED.

    Called before each request is answered, so an import is never finished within the
    request that started it: a client must wait for the job (``GET job/{id}``) as on VidiCore.
    """
    store = ctx.store
    with store.lock:
        due = [j for j in store.jobs.values() if _pending(j) and _age_s(j) >= ctx.settings.import_delay_s]
        if not due:
            return
        for job in due:
            pending = json.loads(job.data.pop(PENDING_KEY))
            item = store.items.get(job.data.get("itemId", ""))
            if item is None:  # deleted meanwhile
                end_job(job, JobState.FAILED_TOTAL, "the item was deleted before the import finished", "import")
                continue
            _attach(ctx, item, pending)
            job.status, job.finished, job.step_description = JobState.FINISHED.value, now_iso(), "imported"
        store.save()


def _age_s(job: Job) -> float:
    started = datetime.fromisoformat(job.started.replace("Z", "+00:00"))
    return (datetime.now(UTC) - started).total_seconds()


def safe_file_name(raw: str) -> str:
    """The last segment of ``raw`` (`/` and `\\` both separate), control characters made `_`,
    leading and trailing dots and spaces removed; 400 if nothing is left or over 200 characters."""
    name = re.split(r"[/\\]", raw)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "_", name).strip(" .")
    if not name or len(name) > 200:
        raise invalid_input("filename", "invalid file name (empty once cleaned, or too long)")
    return name


def _write(target: Path, data: bytes) -> None:
    # O_NOFOLLOW: a symlink planted under the upload's name is refused, not followed.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(target, flags, 0o644), "wb") as out:
        out.write(data)


def _save_raw(ctx: Context, item: Item, storage: Storage | None, name: str,
              body: bytes) -> tuple[str, str | None, int]:
    """Write an upload; return its `file://` URI, its path on the storage (None: derive it from
    the URI) and its size. A storage with a `file://` upload folder gets `{itemId}_{name}` there;
    anything else goes to `--data-dir/{itemId}/{name}`."""
    folder = upload_folder(storage) if storage is not None else None
    path = None if folder is None else f"{item.id}_{name}"
    if folder is None:
        folder = ctx.settings.data_dir.resolve() / item.id
    target = folder / (path or name)
    if Path(os.path.normpath(target)).parent != folder:  # safe_file_name already ensures this
        raise invalid_input("filename", "invalid file name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(target, body)
    except OSError as exc:
        if storage is None:
            raise
        raise invalid_input("storageId", f"cannot write {path} to storage {storage.id}: "
                            f"{exc.strerror}", entity_id=storage.id) from exc
    return target.as_uri(), path, len(body)


def _job_answer(ctx: Context, request: Request, item: Item, job_type: str, pending: dict[str, Any]) -> Response:
    """The import's JobDocument: STARTED; the shape appears when the job finishes (finish_imports)."""
    job = create_job(ctx, job_type, request.user, {**job_metadata(request), "itemId": item.id, "item": item.id,
                                                   PENDING_KEY: json.dumps(pending)},
                     status=JobState.STARTED)
    job.step_description = "importing"
    doc: dict[str, Any] = job_document(job, with_data=True)
    return document_response(request, "JobDocument", doc)


def register(router: Router, ctx: Context) -> None:
    """Add the import routes to ``router``."""
    store = ctx.store

    def placeholder(request: Request) -> Response:
        for name in ("container", "video", "audio", "binary"):
            request.int_arg(name, 0)
        with store.transaction():
            item = new_item(ctx, request)
            return document_response(request, "ItemDocument", {"id": item.id})

    def container_uri(request: Request) -> Response:
        uri, size = checked_uri(request.arg("uri"))
        with store.transaction():
            import_storage(ctx, request)
            item = store.item(request.params["id"])
            pending = attach_file(ctx, item, uri, size, request)
            return _job_answer(ctx, request, item, "PLACEHOLDER_IMPORT", pending)

    def container_raw(request: Request) -> Response:
        name = safe_file_name(request.arg("filename") or "upload.bin")
        with store.transaction():
            storage = import_storage(ctx, request)
            item = store.item(request.params["id"])
            attach_file(ctx, item, "file:///", 0, request)  # 409 before anything is written
            uri, path, size = _save_raw(ctx, item, storage, name, request.body)
            pending = attach_file(ctx, item, uri, size, request, path, name)
            return _job_answer(ctx, request, item, "PLACEHOLDER_IMPORT", pending)

    def import_uri(request: Request) -> Response:
        uri, size = checked_uri(request.arg("uri"))
        with store.transaction():
            import_storage(ctx, request)
            item = new_item(ctx, request)
            pending = attach_file(ctx, item, uri, size, request)
            return _job_answer(ctx, request, item, "PLACEHOLDER_IMPORT", pending)

    def import_raw(request: Request) -> Response:
        name = safe_file_name(request.arg("filename") or "upload.bin")
        with store.transaction():
            storage = import_storage(ctx, request)
            item = Item(id=store.next_id("item"), user=request.user, created=now_iso())
            uri, path, size = _save_raw(ctx, item, storage, name, request.body)
            store.items[item.id] = item  # only once the bytes are written
            pending = attach_file(ctx, item, uri, size, request, path, name)
            return _job_answer(ctx, request, item, "RAW_IMPORT", pending)

    def shape_import(request: Request) -> Response:
        # Shape import (apidoc item/import "Import a shape"): a new shape on an existing item,
        # tagged with the tag= values; job type SHAPE_IMPORT. Items keep their other shapes.
        uri, size = checked_uri(request.arg("uri"))
        tags = request.args("tag")
        if not tags:
            raise invalid_input("tag", "a shape import needs the new shape's tag", value="")
        with store.transaction():
            import_storage(ctx, request)
            item = store.item(request.params["id"])
            path = unquote(urlsplit(uri).path)
            pending = {"uri": uri, "size": size, "path": path.lstrip("/"), "filename": Path(path).name,
                       "tags": list(dict.fromkeys(tags)), "storage": request.arg("storageId"), "user": request.user}
            return _job_answer(ctx, request, item, "SHAPE_IMPORT", pending)

    router.add("POST", "item/{id}/shape", shape_import)
    router.add("POST", "import/placeholder", placeholder)
    router.add("POST", "import/placeholder/{id}/container", container_uri)
    router.add("POST", "import/placeholder/{id}/container/raw", container_raw)
    router.add("POST", "import", import_uri)
    router.add("POST", "import/raw", import_raw)
