"""Test helpers for the mock_vidicore suite: an /API client, waiting, small documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from mock_vidicore.launch import LaunchError, RunningMock, launch_mock

NS = "http://xml.vidispine.com/schema/vidispine"


Server = RunningMock


def start_server(tmp: Path, *extra: str) -> Server:
    """Start `python -m mock_vidicore --port 0 ...` and read its URL from stdout's first line."""
    try:
        return launch_mock(tmp, *extra)
    except LaunchError as exc:
        pytest.fail(str(exc))


class Api:
    """A tiny HTTP client for `/API/...` with Basic auth and a timeout on every call."""

    def __init__(self, base_url: str, user: str = "admin", password: str = "admin") -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.auth = (user, password)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send one request to `{base}/API/{path}`."""
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, f"{self.base_url}/API/{path.lstrip('/')}", **kwargs)

    def json(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        """Send with `Accept: application/json`, check the status, return the parsed body."""
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        response = self.request(method, path, headers=headers, **kwargs)
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()


def metadata(*fields: tuple[str, str], start: str = "-INF", end: str = "+INF") -> dict[str, Any]:
    """A one-timespan MetadataDocument (JSON form) with the given field/value pairs."""
    return {"timespan": [{"start": start, "end": end, "field": [
        {"name": name, "value": [{"value": value}]} for name, value in fields]}]}


def new_item(api: Api, *fields: tuple[str, str]) -> str:
    """A placeholder item with optional generic fields; returns its id."""
    return str(api.json("POST", "import/placeholder", params={"container": "1"},
                        json=metadata(*fields) if fields else None)["id"])
