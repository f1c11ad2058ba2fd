"""Test helpers for the callback suite: hand-made analysis records, a plain /API client, a job driver.

Plain requests and boto3 (the VidiCore client and callback store belong to other rooms).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import requests

from support import wait_for
from vidiplug.callbacks import CallbackFile
from vidiplug.engine.base import Box, EngineInfo
from vidiplug.engine.dlib import RULES
from vidiplug.media.probe import MediaInfo
from vidiplug.pipeline.results import AnalysisResult, Appearance, PersonResult

ANALYZED_AT = datetime(2021, 8, 18, 8, 0, 46, tzinfo=UTC)
ENGINE = EngineInfo(name="dlib", model="hog+resnet", version="abc123", dim=128, rules=RULES)
# short_hamilton_clip.mp4 from the shared data set (MANIFEST: 10.02 s, 640x360, 29.97 fps).
CLIP = MediaInfo(path="short_hamilton_clip.mp4", duration_s=10.02, fps=29.97, width=640, height=360,
                 frame_rate=Fraction(30000, 1001))
TERMINAL = ("FINISHED", "FINISHED_WARNING", "FAILED_TOTAL", "ABORTED")


def person(name: str | None, spans: Sequence[tuple[float, float]], *, fingerprint: str | None = None,
           confidence: float = 0.9, is_new: bool = False, thumbnail: bytes | None = None) -> PersonResult:
    """A PersonResult seen on ``spans`` (start_s, end_s); unknown when ``name`` is None."""
    appearances = tuple(Appearance(start_s=start, end_s=end, confidence=confidence,
                                   box=Box(64.0, 36.0, 192.0, 180.0), best_time_s=start)
                        for start, end in spans)
    return PersonResult(fingerprint=str(uuid.uuid4()) if fingerprint is None else fingerprint,
                        name=name, known=name is not None,
                        confidence=confidence, appearances=appearances, thumbnail_jpeg=thumbnail,
                        is_new=is_new)


def analysis(*people: PersonResult, media: MediaInfo = CLIP) -> AnalysisResult:
    """An AnalysisResult of ``people`` on ``media``."""
    return AnalysisResult(media=media, engine=ENGINE, providers=("CPUExecutionProvider",), interval_s=1.0,
                          frames_analyzed=10, faces_embedded=12, people=tuple(people),
                          analyzed_at=ANALYZED_AT, elapsed_s=1.5)


def values(metadata: dict[str, Any], name: str) -> list[str]:
    """Every value of field ``name`` in a JSON MetadataDocument (timespans, fields, nested groups)."""
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        for item in node.get("field", []):
            if item["name"] == name:
                found.extend(v["value"] for v in item.get("value", []))
        for group in node.get("group", []):
            walk(group)

    for span in metadata.get("timespan", []):
        walk(span)
    return found


@dataclass(frozen=True)
class CallbackLocation:
    """A registered callback resource: its id and where its files go."""

    id: str
    bucket: str
    prefix: str

    @property
    def base_uri(self) -> str:
        """``s3://bucket/prefix/`` without credentials, as the service hands it to the bundle."""
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass
class VidiCore:
    """The mock's /API over plain requests, plus the service side of a job (claim, upload, hand back)."""

    base_url: str
    resource_id: str
    s3: Any
    session: requests.Session = field(default_factory=requests.Session)
    instance: str = "callback-tests"

    def __post_init__(self) -> None:
        self.session.auth = ("admin", "admin")

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        """Send with JSON accepted, check the status, return the parsed body (or None)."""
        kwargs.setdefault("timeout", 30)
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        response = self.session.request(method, f"{self.base_url}/API/{path}", headers=headers, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def import_file(self, path: Path, *fields: tuple[str, str]) -> str:
        """A new item holding ``path`` (placeholder + raw container upload); returns its id."""
        body = {"timespan": [{"start": "-INF", "end": "+INF", "field": [
            {"name": n, "value": [{"value": v}]} for n, v in fields]}]} if fields else None
        item_id = str(self.call("POST", "import/placeholder", params={"container": "1"}, json=body)["id"])
        job = self.call("POST", f"import/placeholder/{item_id}/container/raw", params={"filename": path.name},
                        data=path.read_bytes(), headers={"Content-Type": "application/octet-stream"})
        wait_for(lambda: self._ended(str(job["jobId"])), what="the import job")  # imports are asynchronous
        return item_id

    def claimed(self, path: str, callback: CallbackLocation) -> str:
        """Start an analyze/train job at ``path`` (``item/VX-1/analyze``), claim it, return its id."""
        job = self.call("POST", path, json={}, params={"resourceId": self.resource_id, "callbackId": callback.id})
        job_id = str(job["jobId"])
        self.call("PUT", f"job/{job_id}/claim", params={"resourceId": self.resource_id, "instance": self.instance})
        return job_id

    def hand_back(self, job_id: str, callback: CallbackLocation, files: Sequence[CallbackFile]) -> dict[str, Any]:
        """Upload ``files`` under ``prefix/job_id/`` (data, then scripts), set VIDINET_JOB, wait; the ended job."""
        for file in [f for f in files if not f.is_script] + [f for f in files if f.is_script]:
            self.s3.put_object(Bucket=callback.bucket, Key=f"{callback.prefix}{job_id}/{file.name}",
                               Body=file.data, ContentType=file.content_type)
        self.call("PUT", f"job/{job_id}/status", params={"instance": self.instance, "status": "VIDINET_JOB",
                                                         "callbackId": callback.id})  # as the service names it
        job: dict[str, Any] = wait_for(lambda: self._ended(job_id), what=f"job {job_id} to end")
        return job

    def _ended(self, job_id: str) -> dict[str, Any] | None:
        job: dict[str, Any] = self.call("GET", f"job/{job_id}", params={"metadata": "true"})
        return job if job["status"] in TERMINAL else None

    def keys(self, callback: CallbackLocation) -> list[str]:
        """Every object key left in the callback bucket."""
        listing = self.s3.list_objects_v2(Bucket=callback.bucket)
        return [entry["Key"] for entry in listing.get("Contents", [])]

    def metadata(self, item_id: str) -> dict[str, Any]:
        """The item's metadata (JSON MetadataDocument)."""
        document: dict[str, Any] = self.call("GET", f"item/{item_id}", params={"content": "metadata"})["metadata"]
        return document

    def items_with(self, name: str, value: str) -> list[str]:
        """Ids of the items whose field ``name`` is exactly ``value``."""
        found = self.call("PUT", "item", params={"content": "metadata", "field": name},
                          json={"field": [{"name": name, "value": [{"value": value}]}]})
        return [item["id"] for item in found.get("item", []) if value in values(item.get("metadata", {}), name)]

    def collection_named(self, name: str) -> dict[str, Any] | None:
        """The collection called exactly ``name``, with its content, or None."""
        found = self.call("PUT", "collection", json={"text": [{"value": name}]})
        exact = [c for c in found.get("collection", []) if c["name"] == name]
        assert len(exact) <= 1, f"{len(exact)} collections named {name!r}"
        return exact[0] if exact else None

    def shapes(self, item_id: str) -> list[dict[str, Any]]:
        """The item's ShapeDocuments (tags, file, key/value metadata)."""
        shapes: list[dict[str, Any]] = self.call("GET", f"item/{item_id}", params={"content": "shape"}).get("shape", [])
        return shapes

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()


def job_data(job: dict[str, Any]) -> dict[str, str]:
    """A JobDocument's data as a dict."""
    return {entry["key"]: entry["value"] for entry in job.get("data", [])}


def shape_values(shape: dict[str, Any]) -> dict[str, str]:
    """A ShapeDocument's key/value metadata as a dict."""
    return {entry["key"]: entry["value"] for entry in shape.get("metadata", {}).get("field", [])}
