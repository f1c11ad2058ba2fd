"""The mock's entities: plain mutable records kept by the Store, and their JSON persistence.

Metadata trees stay in VidiCore's JSON form (timespans of fields/groups). Imports
only the standard library.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any


class JobState(str, Enum):
    """VidiCore's job state names (reference §7.2)."""

    READY = "READY"
    STARTED = "STARTED"
    VIDINET_JOB = "VIDINET_JOB"
    WAITING = "WAITING"
    HOLD = "HOLD"
    FINISHED = "FINISHED"
    FINISHED_WARNING = "FINISHED_WARNING"
    FAILED_TOTAL = "FAILED_TOTAL"
    ABORT_PENDING = "ABORT_PENDING"  # VidiCore's spelling (SDK, face theme); not ABORTED_PENDING
    ABORTED = "ABORTED"


TERMINAL = frozenset({JobState.FINISHED, JobState.FINISHED_WARNING,
                      JobState.FAILED_TOTAL, JobState.ABORTED})


def now_iso() -> str:
    """The current UTC time as VidiCore writes it (ISO 8601, milliseconds, `Z`)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Resource:
    """A `vidinet`, `callback` or other resource; ``body`` is the type element's JSON form."""

    id: str
    type: str
    body: dict[str, Any]
    configuration: dict[str, Any] | None = None


@dataclass
class StorageMethod:
    """One way to reach a storage: a URI (`file:///srv/`, `s3://key:secret@b/p/`) and its flags."""

    id: str
    uri: str
    read: bool = True
    write: bool = True
    browse: bool = True
    type: str = "NONE"


@dataclass
class Storage:
    """A storage: type (LOCAL, ...), state, its methods in order and key/value metadata."""

    id: str
    type: str
    state: str
    timestamp: str
    methods: list[StorageMethod] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class FileRecord:
    """One file of a shape: where it is and how big."""

    id: str
    uri: str
    path: str
    size: int
    timestamp: str
    storage: str = ""
    state: str = "CLOSED"


@dataclass
class Shape:
    """An item's shape: tags, MIME type, its container file and key/value metadata."""

    id: str
    tags: list[str]
    mime_type: str
    file: FileRecord | None
    component_id: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class Item:
    """An item: owner, creation time, timespan metadata and shapes."""

    id: str
    user: str
    created: str
    metadata: list[dict[str, Any]] = field(default_factory=list)
    shapes: list[Shape] = field(default_factory=list)


@dataclass
class Collection:
    """A collection: a name, member item ids in insertion order, timespan metadata."""

    id: str
    name: str
    user: str
    created: str
    items: list[str] = field(default_factory=list)
    metadata: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Job:
    """A job: VidiCore's fields plus the claim and progress a VidiNet-style service reports."""

    id: str
    type: str
    status: str
    user: str
    started: str
    priority: str = "MEDIUM"
    data: dict[str, str] = field(default_factory=dict)
    finished: str = ""
    claimed_by: str = ""
    progress: dict[str, str] = field(default_factory=dict)
    step_description: str = ""
    step_timestamp: str = ""  # the last claim or progress report (ISO 8601)
    attempts: int = 0  # claims so far, takeovers included
    log: list[dict[str, str]] = field(default_factory=list)


@dataclass
class FieldDefinition:
    """A metadata field definition: type and optional string pattern restriction."""

    name: str
    type: str
    pattern: str = ""
    system: bool = False


@dataclass
class FieldGroup:
    """A metadata field group: member fields and nested groups."""

    name: str
    fields: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


def to_plain(entity: Any) -> dict[str, Any]:
    """A JSON-serialisable dict of any entity above."""
    return asdict(entity)


def item_from_plain(data: dict[str, Any]) -> Item:
    """Rebuild an Item (with its shapes and files) from :func:`to_plain` output."""
    shapes = []
    for shape in data.pop("shapes", []):
        file_data = shape.pop("file", None)
        shapes.append(Shape(**shape, file=FileRecord(**file_data) if file_data else None))
    return Item(**data, shapes=shapes)


def storage_from_plain(data: dict[str, Any]) -> Storage:
    """Rebuild a Storage (with its methods) from :func:`to_plain` output."""
    methods = [StorageMethod(**method) for method in data.pop("methods", [])]
    return Storage(**data, methods=methods)
