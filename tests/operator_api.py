"""What an operator (or Vidispine's UI) does over VidiCore's REST API, for the service and reliability tests.

Plain requests against mock_vidicore: nothing from vidiplug, so the tests check the
service from the outside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from support import wait_for

TERMINAL = ("FINISHED", "FINISHED_WARNING", "FAILED_TOTAL", "ABORTED")


def field_values(node: dict[str, Any], name: str) -> list[str]:
    """Every value of field ``name`` in a JSON metadata node (timespans, fields, nested groups)."""
    found: list[str] = []

    def walk(entry: dict[str, Any]) -> None:
        for item in entry.get("field", []) or []:
            if item.get("name") == name:
                found.extend(str(v.get("value")) for v in item.get("value", []) or [])
        for group in entry.get("group", []) or []:
            walk(group)

    for span in node.get("timespan", []) or []:
        walk(span)
    return found


def job_data(job: dict[str, Any]) -> dict[str, str]:
    """A JobDocument's data as a dict."""
    return {entry["key"]: entry["value"] for entry in job.get("data", []) or []}


@dataclass
class Operator:
    """mock_vidicore's /API as an operator uses it."""

    base_url: str
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.session.auth = ("admin", "admin")

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        """Send with JSON accepted, check the status, return the parsed body (or None)."""
        kwargs.setdefault("timeout", 30)
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        response = self.session.request(method, f"{self.base_url}/API/{path}", headers=headers, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content and "json" in response.headers.get("Content-Type", "") else None

    def import_file(self, path: Path, *fields: tuple[str, str]) -> str:
        """A new item holding ``path`` with generic ``fields`` (placeholder + raw upload); its id."""
        body = {"timespan": [{"start": "-INF", "end": "+INF", "field": [
            {"name": n, "value": [{"value": v}]} for n, v in fields]}]} if fields else None
        item_id = str(self.call("POST", "import/placeholder", params={"container": "1"}, json=body)["id"])
        self.call("POST", f"import/placeholder/{item_id}/container/raw", params={"filename": path.name},
                  data=path.read_bytes(), headers={"Content-Type": "application/octet-stream"})
        return item_id

    def set_fields(self, item_id: str, *fields: tuple[str, str]) -> None:
        """Set generic metadata fields of an item (what renaming in a UI does)."""
        body = {"timespan": [{"start": "-INF", "end": "+INF", "field": [
            {"name": n, "value": [{"value": v}]} for n, v in fields]}]}
        self.call("PUT", f"item/{item_id}/metadata", json=body)

    def resources(self, kind: str, url: str) -> list[str]:
        """Ids of the ``kind`` resources whose url (vidinet) or uri (callback) is ``url``."""
        doc = self.call("GET", f"resource/{kind}") or {}
        key = "url" if kind == "vidinet" else "uri"
        return [str(r["id"]) for r in doc.get("resource", []) or [] if r.get(kind, {}).get(key) == url]

    def collections_named(self, name: str) -> list[str]:
        """Ids of the collections called exactly ``name``."""
        found = self.call("PUT", "collection", json={"text": [{"value": name}]}) or {}
        return [str(c["id"]) for c in found.get("collection", []) or [] if c.get("name") == name]

    def collection_id(self, name: str) -> str | None:
        """The id of the collection called exactly ``name``, or None."""
        found = self.call("PUT", "collection", json={"text": [{"value": name}]}) or {}
        exact = [c for c in found.get("collection", []) or [] if c.get("name") == name]
        return str(exact[0]["id"]) if exact else None

    def collection_items(self, collection_id: str) -> list[str]:
        """Ids of the items in a collection."""
        doc = self.call("GET", f"collection/{collection_id}/item") or {}
        return [str(i["id"]) for i in doc.get("item", []) or []]

    def add_to_collection(self, collection_id: str, item_id: str) -> None:
        self.call("PUT", f"collection/{collection_id}/{item_id}", params={"type": "item"},
                  headers={"Accept": "text/plain"})

    def metadata(self, item_id: str) -> dict[str, Any]:
        """The item's metadata (JSON MetadataDocument)."""
        doc: dict[str, Any] = self.call("GET", f"item/{item_id}", params={"content": "metadata"})["metadata"]
        return doc

    def shapes(self, item_id: str) -> list[dict[str, Any]]:
        """The item's ShapeDocuments."""
        doc = self.call("GET", f"item/{item_id}", params={"content": "shape"}) or {}
        shapes: list[dict[str, Any]] = doc.get("shape", []) or []
        return shapes

    def job(self, job_id: str) -> dict[str, Any]:
        doc: dict[str, Any] = self.call("GET", f"job/{job_id}", params={"metadata": "true"})
        return doc

    def wait_job(self, job_id: str, timeout_s: float = 240.0) -> dict[str, Any]:
        """The job once it reached a terminal state."""
        def ended() -> dict[str, Any] | None:
            job = self.job(job_id)
            return job if job["status"] in TERMINAL else None
        job: dict[str, Any] = wait_for(ended, timeout_s, f"job {job_id} to end")
        return job

    def analyze(self, item_id: str, resource_id: str, callback_id: str, **params: str) -> str:
        """Start an analyze job like the KB's example call; its id."""
        query = [("resourceId", resource_id), ("callbackId", callback_id)]
        query += [("jobmetadata", f"cognitive_service_{k}={v}") for k, v in params.items()]
        return str(self.call("POST", f"item/{item_id}/analyze", params=query, json={})["jobId"])

    def train(self, collection_id: str, resource_id: str, callback_id: str, **params: str) -> str:
        """Start a train job on a collection; its id."""
        query = [("resourceId", resource_id), ("callbackId", callback_id)]
        query += [("jobmetadata", f"cognitive_service_{k}={v}") for k, v in params.items()]
        return str(self.call("POST", f"collection/{collection_id}/train", params=query, json={})["jobId"])

    def delete_item(self, item_id: str) -> None:
        self.call("DELETE", f"item/{item_id}", headers={"Accept": "text/plain"})

    def items_with(self, name: str, value: str) -> list[str]:
        """Ids of the items whose field ``name`` is exactly ``value``."""
        found = self.call("PUT", "item", params={"content": "metadata", "field": name},
                          json={"field": [{"name": name, "value": [{"value": value}]}]}) or {}
        return [str(i["id"]) for i in found.get("item", []) or [] if value in field_values(i.get("metadata", {}), name)]

    def close(self) -> None:
        self.session.close()
