"""Opt-in checks against a real VidiCore: what it answers to the calls vidiplug relies on, and direct mode end to end.

Set ``VIDICORE_URL``, ``VIDICORE_USER`` and ``VIDICORE_PASSWORD`` (and, for the workflow,
the callback location ``VIDIPLUG_CALLBACK__URI``) to run them against that server; without
``VIDICORE_URL`` they run against mock_vidicore without ``--bridge`` and moto (the suite's
self-test). Every answer goes to the record (see conftest.py and README.md).

What runs on the server: read-only probes, a search, a claim on a job that does not exist,
direct mode's registration (fields, field groups, a shape tag and three collections, left
in place) and one analysis of a 10 s clip whose items are deleted afterwards. Nothing is
registered under ``resource/vidinet`` and no resource is created.

Not probed: the state spelling and body of an abort (that needs a running job on the
server), and whether ``GET /API/resource/callback`` masks secrets (direct mode registers no
callback resource).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from operator_api import Operator
from support import wait_for
from vidiplug.render.timecode import parse_timecode
from vidiplug.service.app import ServiceApp
from vidiplug.service.registration import Registration, register
from vidiplug.settings import Settings, load_settings
from vidiplug.vidicore.client import VidiCoreClient

pytestmark = pytest.mark.timeout(1500)
HAMILTON = "face_recognition/examples/short_hamilton_clip.mp4"  # Lin-Manuel Miranda ~3.5-8.0 s (MANIFEST)
LIN_START_S, LIN_END_S = 3.5, 8.0
INTERVAL_S = 1.0
ANALYSIS_TIMEOUT_S = 900
QUEUE = "FaceAnalysisQueue"


def at_most_every(seconds: float, condition: Callable[[], Any]) -> Callable[[], Any]:
    """``condition``, asked at most once per ``seconds`` (falsy in between): wait_for spares a customer's server."""
    due = [0.0]

    def throttled() -> Any:
        if time.monotonic() < due[0]:
            return None
        due[0] = time.monotonic() + seconds
        return condition()
    return throttled


class Probe:
    """Calls to the server as an operator makes them, each answer recorded under the test's name."""

    def __init__(self, server: Any, recorder: Any, name: str) -> None:
        self.base = f"{server.url}/API"
        self.session = requests.Session()
        self.session.auth = (server.user, server.password)
        self.session.headers["Accept"] = "application/json"
        self.session.hooks["response"].append(recorder.hook(name))

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return self.session.request(method, f"{self.base}/{path}", **kwargs)


def settings_for(server: Any, store: Path, **overrides: object) -> Settings:
    """Direct-mode settings for ``server``: its credentials, its callback location, a store of our own."""
    values: dict[str, object] = {
        "vidicore.url": server.url, "vidicore.user": server.user, "vidicore.password": server.password,
        "vidicore.mode": "direct", "vidicore.resource_name": f"vidiplug-check-{uuid.uuid4().hex[:8]}",
        "store.url": str(store), "service.status_port": -1, "service.autotrain": False,
        "service.poll_interval_s": 1.0 if server.real else 0.2,
        "service.unknowns_watch_interval_s": 2.0 if server.real else 0.2}
    values.update(overrides)
    return load_settings(None, server.callback, values)


@pytest.fixture
def probe(vidicore_server: Any, recorder: Any, request: pytest.FixtureRequest) -> Iterator[Probe]:
    client = Probe(vidicore_server, recorder, request.node.name)
    try:
        yield client
    finally:
        client.session.close()


@pytest.fixture(scope="session")
def registered(vidicore_server: Any, recorder: Any, tmp_path_factory: pytest.TempPathFactory) -> Registration:
    """Direct mode's registration on the server (documented, idempotent calls; recorded as vidiplug's)."""
    settings = settings_for(vidicore_server, tmp_path_factory.mktemp("register") / "store.sqlite")
    session = requests.Session()
    session.hooks["response"].append(recorder.hook(None))
    try:
        with VidiCoreClient(vidicore_server.url, vidicore_server.user, vidicore_server.password,
                            session=session) as client:
            return register(client, settings)
    finally:
        session.close()


def test_version(probe: Probe, vidicore_server: Any) -> None:
    answer = probe.call("GET", "version")
    # mock_vidicore does not implement GET /API/version; VidiCore answers a VersionDocument.
    assert answer.status_code == (200 if vidicore_server.real else 404), answer.text[:500]


def test_the_bridge_claim_endpoint_does_not_exist(probe: Probe) -> None:
    answer = probe.call("PUT", "job/VX-999999/claim", params={"resourceId": "VX-999999", "instance": "probe"})
    assert answer.status_code == 404, answer.text[:500]


def test_collection_search_takes_the_text_form(probe: Probe, registered: Registration) -> None:
    answer = probe.call("PUT", "collection", json={"text": [{"value": QUEUE}]})
    assert answer.status_code == 200, answer.text[:500]
    found = answer.json().get("collection", []) or []
    assert registered.queue_collection_id in [str(c.get("id")) for c in found if c.get("name") == QUEUE]


def test_a_registered_field_reads_back(probe: Probe, registered: Registration) -> None:
    answer = probe.call("GET", "metadata-field/vcs_face_value")
    assert answer.status_code == 200, answer.text[:500]
    assert answer.json().get("name") == "vcs_face_value"


class RecordedService(ServiceApp):
    """vidiplug's service with every call it makes to VidiCore recorded."""

    recorder: Any = None

    def client(self) -> VidiCoreClient:
        client = super().client()
        client._session.hooks["response"].append(self.recorder.hook(None))  # the client owns and closes it
        return client


def generic(operator: Operator, path: str) -> dict[str, list[str]]:
    """The generic fields of ``item/ID`` by name."""
    doc = operator.call("GET", f"{path}/metadata") or {}
    entity = (doc.get("item") or doc.get("collection") or [{}])[0]
    fields: dict[str, list[str]] = {}
    for span in (entity.get("metadata") or {}).get("timespan", []) or []:
        if span.get("start") == "-INF":
            for entry in span.get("field", []) or []:
                fields.setdefault(entry["name"], []).extend(str(v.get("value")) for v in entry.get("value") or [])
    return fields


def faces(operator: Operator, item_id: str) -> list[dict[str, Any]]:
    """The face timespans vidiplug wrote on the item."""
    found = []
    for span in operator.metadata(item_id).get("timespan", []) or []:
        if span.get("start") == "-INF":
            continue
        for group in span.get("group", []) or []:
            if not str(group.get("name", "")).startswith("adu_face_"):
                continue
            for value in group.get("group", []) or []:
                fields = {f["name"]: f["value"][0]["value"] for f in value.get("field", []) or [] if f.get("value")}
                found.append({"start": float(parse_timecode(span["start"])), "end": float(parse_timecode(span["end"])),
                              "fingerprint": fields.get("adu_av_valueId"), "name": fields.get("adu_av_value")})
    return found


def test_direct_mode_analyses_a_clip(vidicore_server: Any, recorder: Any, registered: Registration, data_dir: Path,
                                     dlib_engine: Any, tmp_path: Path) -> None:
    if vidicore_server.missing:
        pytest.skip(f"{vidicore_server.missing} is not set: the callback location VidiCore can read")
    operator = Operator(vidicore_server.url)
    operator.session.auth = (vidicore_server.user, vidicore_server.password)
    operator.session.hooks["response"].append(recorder.hook("direct workflow"))
    RecordedService.recorder = recorder
    app = RecordedService(settings_for(vidicore_server, tmp_path / "store.sqlite"), engine=dlib_engine)
    created: list[str] = []
    try:
        reg = app.start()
        assert reg.mode == "direct" and reg.resource_id is None and reg.callback_id is None
        clip = operator.import_file(data_dir / HAMILTON)
        created.append(clip)
        operator.set_fields(clip, ("vidiplug_jobParameter", f"cognitive_service_KeyframeInterval={INTERVAL_S}"),
                            ("vidiplug_status", "QUEUED"))
        operator.add_to_collection(str(reg.queue_collection_id), clip)

        def outcome() -> tuple[str, str] | None:
            fields = generic(operator, f"item/{clip}")
            status = (fields.get("vidiplug_status") or [""])[0]
            return (status, (fields.get("vidiplug_message") or [""])[0]) if status in ("FINISHED", "FAILED") else None

        pace = 2.0 if vidicore_server.real else 0.0
        status, message = wait_for(at_most_every(pace, outcome), ANALYSIS_TIMEOUT_S, f"item {clip} to be analysed")
        recorder.notes["direct workflow"] = f"item {clip}: {status} {recorder.redact(message)}"
        recorder.write()
        assert status == "FINISHED", message
        wait_for(at_most_every(pace, lambda: clip not in operator.collection_items(str(reg.queue_collection_id))), 120,
                 "the item to leave the analysis queue")
        found = faces(operator, clip)
        assert found, "no face timespans on the item"
        created += [item for fp in sorted({f["fingerprint"] for f in found if f["fingerprint"]})
                    for item in operator.items_with("vcs_face_externalId", fp)]
        main = max(found, key=lambda f: f["end"] - f["start"])
        assert abs(main["start"] - LIN_START_S) <= INTERVAL_S and abs(main["end"] - LIN_END_S) <= INTERVAL_S + 0.1
    finally:
        app.stop()
        for item in created:  # the clip and the unknown-face items its analysis made; fields and collections stay
            operator.session.request("DELETE", f"{operator.base_url}/API/item/{item}", timeout=60)
        operator.close()
