"""VidiCore's JSON documents as frozen values: Job, Resource, Item, Shape, and their parsers.

Parsers accept the quirks of VidiCore's XML-to-JSON mapping (a repeatable element that
arrives as one object instead of a list, a text element that arrives as ``{"value": ...}``)
and raise DocumentError naming what is missing. Imports only errors and logs; no network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from types import MappingProxyType
from typing import Any

from vidiplug.errors import DocumentError
from vidiplug.logs import redact

JsonObject = dict[str, Any]
MetadataTimespans = list[JsonObject]
"""The ``timespan`` list of a MetadataDocument, as plain JSON dicts (start, end, field, group)."""

GENERIC = ("-INF", "+INF")


class JobState(str, Enum):
    """VidiCore's job states (reference §7.2); ``is_terminal`` for the four that end a job."""

    READY = "READY"
    STARTED = "STARTED"
    VIDINET_JOB = "VIDINET_JOB"
    WAITING = "WAITING"
    HOLD = "HOLD"
    FINISHED = "FINISHED"
    FINISHED_WARNING = "FINISHED_WARNING"
    FAILED_TOTAL = "FAILED_TOTAL"
    ABORT_PENDING = "ABORT_PENDING"
    ABORTED_PENDING = "ABORT_PENDING"  # an alias: the spelling some documentation uses
    ABORTED = "ABORTED"

    @classmethod
    def _missing_(cls, value: object) -> JobState | None:
        """``ABORTED_PENDING`` (old documentation) reads as ``ABORT_PENDING`` (what VidiCore sends)."""
        return cls.ABORT_PENDING if value == "ABORTED_PENDING" else None

    @property
    def is_terminal(self) -> bool:
        """True for FINISHED, FINISHED_WARNING, FAILED_TOTAL and ABORTED: nothing changes after."""
        return self in (JobState.FINISHED, JobState.FINISHED_WARNING, JobState.FAILED_TOTAL, JobState.ABORTED)


@dataclass(frozen=True)
class Job:
    """A VidiCore job. ``data`` is its key/value job data (``jobmetadata``, ``itemId``, ...).

    ``failure_reason`` is the ``failureReason`` data a failed job carries, else None.
    ``progress_percent`` (0-100) and ``step_description`` are what the current step last
    reported, when it did. ``step_timestamp`` (UTC) is when the job was last claimed or
    reported progress (None if never, or unreadable): a STARTED job whose timestamp stops
    moving belongs to a dead instance. ``attempts`` counts its claims, takeovers included.
    """

    id: str
    type: str
    state: JobState
    data: Mapping[str, str]
    user: str
    failure_reason: str | None
    progress_percent: float | None = None
    step_description: str = ""
    step_timestamp: datetime | None = None
    attempts: int = 0


@dataclass(frozen=True)
class Resource:
    """A VidiCore resource: ``kind`` ``"vidinet"`` (url, name, state) or ``"callback"`` (uri).

    ``url_or_uri`` may carry credentials (``vidinet://id:KEY@...``, ``s3://key:secret@...``);
    the repr redacts them, so do not log the field itself.
    """

    id: str
    kind: str
    url_or_uri: str = field(repr=False)
    name: str = ""
    state: str = ""

    def __repr__(self) -> str:
        return (f"Resource(id={self.id!r}, kind={self.kind!r}, url_or_uri={redact(self.url_or_uri)!r}, "
                f"name={self.name!r}, state={self.state!r})")


@dataclass(frozen=True)
class Shape:
    """One shape of an item: its tags, the URIs of its files, MIME type and key/value metadata."""

    id: str
    tags: tuple[str, ...]
    uris: tuple[str, ...]
    mime_type: str = ""
    metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Item:
    """A VidiCore item as ``get_item`` read it.

    ``fields`` maps each field name of the generic (``-INF``..``+INF``) timespan to its values
    (top-level fields only; groups stay in ``timespans``). ``timespans`` is the raw metadata
    (empty unless ``metadata`` was asked for), ``shapes`` and ``uris`` likewise.
    """

    id: str
    fields: Mapping[str, tuple[str, ...]]
    timespans: tuple[JsonObject, ...]
    shapes: tuple[Shape, ...]
    uris: tuple[str, ...]

    def field(self, name: str) -> str | None:
        """The first value of generic field ``name``, or None when the item has none."""
        values = self.fields.get(name, ())
        return values[0] if values else None


def as_list(value: Any) -> list[Any]:
    """A repeatable member as a list: None → [], one object or scalar → [it]."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def text_of(value: Any) -> str | None:
    """A text element as str: scalars as they are, ``{"value": x}`` unwrapped, else None."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def require(doc: Any, key: str, document: str) -> str:
    """``doc[key]`` as text; DocumentError naming ``document`` and ``key`` when absent."""
    if not isinstance(doc, dict):
        raise DocumentError(f"{document}: expected a JSON object, got {type(doc).__name__}")
    text = text_of(doc.get(key))
    if text is None or text == "":
        raise DocumentError(f"{document}: required '{key}' is missing")
    return text


def optional(doc: Mapping[str, Any], key: str) -> str:
    """``doc[key]`` as text, or "" when absent."""
    return text_of(doc.get(key)) or ""


def key_values(entries: Any, document: str) -> dict[str, str]:
    """``[{"key": k, "value": v}, ...]`` (or one such object) as a dict."""
    pairs: dict[str, str] = {}
    for entry in as_list(entries):
        pairs[require(entry, "key", document)] = text_of(entry.get("value")) or ""
    return pairs


def parse_job(doc: Any) -> Job:
    """A Job from a JobDocument; DocumentError if ``jobId``, ``status`` or ``type`` is absent."""
    job_id = require(doc, "jobId", "JobDocument")
    state_name = require(doc, "status", f"JobDocument {job_id}")
    try:
        state = JobState(state_name)
    except ValueError:
        raise DocumentError(f"JobDocument {job_id}: unknown status {state_name!r}") from None
    data = key_values(doc.get("data"), f"JobDocument {job_id} data")
    step = doc.get("currentStep")
    step = step if isinstance(step, dict) else {}
    return Job(
        id=job_id, type=require(doc, "type", f"JobDocument {job_id}"), state=state,
        data=MappingProxyType(data), user=optional(doc, "user"), failure_reason=data.get("failureReason"),
        progress_percent=_percent(step.get("progress")), step_description=optional(step, "description"),
        step_timestamp=_timestamp(optional(step, "timestamp")), attempts=_count(optional(step, "attempts")),
    )


def _timestamp(text: str) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime (no offset = UTC); None if empty or unreadable."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        return None
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _count(text: str) -> int:
    try:
        return max(int(text), 0) if text else 0
    except ValueError:
        return 0


def _percent(progress: Any) -> float | None:
    if not isinstance(progress, dict):
        return None
    try:
        value, total = float(optional(progress, "value")), float(optional(progress, "total") or 100)
    except ValueError:
        return None
    return 100.0 * value / total if total > 0 else None


def parse_resource(doc: Any) -> Resource:
    """A Resource from a ResourceDocument holding ``vidinet`` (needs ``url``) or ``callback`` (``uri``)."""
    resource_id = require(doc, "id", "ResourceDocument")
    if isinstance(doc.get("vidinet"), dict):
        body = doc["vidinet"]
        return Resource(resource_id, "vidinet", require(body, "url", f"ResourceDocument {resource_id} vidinet"),
                        optional(body, "name"), optional(body, "state"))
    if isinstance(doc.get("callback"), dict):
        uri = require(doc["callback"], "uri", f"ResourceDocument {resource_id} callback")
        return Resource(resource_id, "callback", uri)
    raise DocumentError(f"ResourceDocument {resource_id}: neither 'vidinet' nor 'callback'")


def parse_shape(doc: Any) -> Shape:
    """A Shape from a ShapeDocument: tags, the URIs of every component file, key/value metadata."""
    shape_id = require(doc, "id", "ShapeDocument")
    uris: list[str] = []
    for key, component in doc.items():
        if key.endswith("Component"):
            for part in as_list(component):
                for file in as_list(part.get("file") if isinstance(part, dict) else None):
                    if isinstance(file, dict):
                        uris.extend(u for u in map(text_of, as_list(file.get("uri"))) if u)
    metadata = doc.get("metadata")
    pairs = key_values(metadata.get("field") if isinstance(metadata, dict) else None, f"ShapeDocument {shape_id}")
    return Shape(
        id=shape_id, tags=tuple(t for t in map(text_of, as_list(doc.get("tag"))) if t),
        uris=tuple(uris), mime_type=optional(doc, "mimeType"), metadata=MappingProxyType(pairs),
    )


def parse_item(doc: Any) -> Item:
    """An Item from an ItemDocument (``metadata``, ``shape`` and ``files`` parts where present)."""
    item_id = require(doc, "id", "ItemDocument")
    metadata = doc.get("metadata")
    # Some VidiCore versions put timespans directly under the item (reference §4.1).
    spans = parse_timespans(metadata if isinstance(metadata, dict) else doc)
    files = doc.get("files")
    uris = [u for u in map(text_of, as_list(files.get("uri") if isinstance(files, dict) else None)) if u]
    return Item(
        id=item_id, fields=MappingProxyType(generic_fields(spans)), timespans=tuple(spans),
        shapes=tuple(parse_shape(s) for s in as_list(doc.get("shape"))), uris=tuple(uris),
    )


def parse_timespans(metadata: Any) -> MetadataTimespans:
    """The ``timespan`` list of a MetadataDocument body (JSON form) as plain dicts."""
    if not isinstance(metadata, dict):
        return []
    return [span for span in as_list(metadata.get("timespan")) if isinstance(span, dict)]


def generic_fields(spans: MetadataTimespans) -> dict[str, tuple[str, ...]]:
    """Top-level field values of the ``-INF``..``+INF`` timespan(s), by field name."""
    fields: dict[str, tuple[str, ...]] = {}
    for span in spans:
        if (span.get("start", "-INF"), span.get("end", "+INF")) != GENERIC:
            continue
        for entry in as_list(span.get("field")):
            if isinstance(entry, dict) and text_of(entry.get("name")):
                values = tuple(v for v in map(text_of, as_list(entry.get("value"))) if v is not None)
                name = text_of(entry["name"]) or ""
                fields[name] = fields.get(name, ()) + values
    return fields


def parse_metadata_list(doc: Any, entity: str) -> MetadataTimespans:
    """The timespans of the first ``entity`` (``item``/``collection``) in a MetadataListDocument."""
    entries = as_list(doc.get(entity)) if isinstance(doc, dict) else []
    if not entries or not isinstance(entries[0], dict):
        raise DocumentError(f"MetadataListDocument: required '{entity}' is missing")
    return parse_timespans(entries[0].get("metadata"))
