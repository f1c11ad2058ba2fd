"""Callback fixtures: hostile names, moto's S3 server, the real mock_vidicore as a subprocess, a service.

Nothing is patched: the scripts run in the mock's own callback executor against moto on loopback.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callback_harness import CallbackLocation, VidiCore
from mock_vidicore.launch import launch_mock
from support import HOSTILE_NAMES

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"

_STRINGS = ["vcs_face_value", "vcs_face_method", "vcs_face_status", "vcs_face_externalId", "adu_analyzerId",
            "adu_analysisType", "adu_creationDate", "adu_av_value", "adu_av_valueId", "adu_av_description",
            "adu_av_thumbnailUrl", "adu_valueId", "adu_value"]
_BOX = ["adu_av_x", "adu_av_y", "adu_av_width", "adu_av_height"]
_VALUE_FIELDS = ["adu_av_value", "adu_av_valueId", "adu_av_confidence", "adu_av_description", "adu_av_thumbnailUrl"]
_TOP_FIELDS = ["adu_analyzerId", "adu_analysisType", "adu_creationDate", "adu_valueId", "adu_value"]
# The mock's face declaration plus what render/metadata_xml.py writes beyond it: the
# adu_face_VidiplugFaceAnalyzer group and the adu_av_boundingBox subgroup with its four fields.
VIDIPLUG_DECLARATION: dict[str, Any] = {
    "serviceName": "vidiplug face analysis",
    "metadataField": [
        *({"name": n, "type": "boolean"} for n in ("vcs_face_isTrainingMaterial", "vcs_face_isTrainingCollection",
                                                   "vcs_face_isSampleCollection")),
        *({"name": n, "type": "string"} for n in _STRINGS),
        *({"name": n, "type": "float"} for n in ["adu_av_confidence", *_BOX]),
    ],
    "fieldGroup": [
        {"name": "adu_av_boundingBox", "field": [{"name": n} for n in _BOX]},
        {"name": "adu_av_analyzedValue", "field": [{"name": n} for n in _VALUE_FIELDS],
         "group": [{"name": "adu_av_boundingBox"}]},
        *({"name": f"adu_face_{a}", "field": [{"name": n} for n in _TOP_FIELDS],
           "group": [{"name": "adu_av_analyzedValue"}]}
          for a in ("DeepVAKeyframeAnalyzer", "VidiplugFaceAnalyzer")),
    ],
    "shapeTag": [{"name": "vcs_face_thumbnail"}],
    "taskDefinition": [{"jobType": "VCS_TRAINING_MERGE_ITEMS"}, {"jobType": "VCS_TRAINING_RELABEL_ITEM"}],
    "collection": [{"name": "FaceTrainingDataset",
                    "field": [{"name": "vcs_face_isTrainingCollection", "value": "true"}]}],
}


@pytest.fixture(params=HOSTILE_NAMES, ids=[f"hostile{i}" for i in range(len(HOSTILE_NAMES))])
def hostile_name(request: pytest.FixtureRequest) -> str:
    """Each hostile name in turn."""
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """../shared/data beside the repository."""
    if not (DATA / "MANIFEST.md").is_file():
        pytest.fail(f"shared test data not found at {DATA}")
    return DATA


@pytest.fixture(scope="session")
def face_jpeg(data_dir: Path) -> bytes:
    """A real JPEG to stand in for a face crop (the mock stores the URI; nothing decodes it)."""
    return (data_dir / "face_recognition/examples/obama_small.jpg").read_bytes()


@pytest.fixture(scope="module")
def mock_url(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Iterator[str]:
    """`python -m mock_vidicore --port 0` for this module; its URL is the first line it prints."""
    running = launch_mock(tmp_path_factory.mktemp("mock"), "--bridge", "--s3-endpoint", s3_endpoint,
                          "--poll-interval-s", "0.05", "--script-time-limit-s", "20",
                          "--import-delay-s", "0.2")  # imports are asynchronous: scripts must wait
    try:
        yield running.url
    finally:
        assert running.stop() == 0, running.log_path.read_text()


@pytest.fixture(scope="module")
def vidicore(mock_url: str, s3: Any) -> Iterator[VidiCore]:
    """The mock with a COGNITIVE_SERVICE resource configured with VIDIPLUG_DECLARATION."""
    probe = VidiCore(mock_url, "", s3)
    resource = probe.call("POST", "resource/vidinet", json={"vidinet": {
        "url": f"vidinet://{uuid.uuid4()}:KEY@vidiplug", "type": "COGNITIVE_SERVICE", "endpoint": "vidiplug"}})
    probe.call("PUT", f"resource/vidinet/{resource['id']}/configuration", json=VIDIPLUG_DECLARATION)
    probe.close()
    client = VidiCore(mock_url, str(resource["id"]), s3)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def callback(vidicore: VidiCore, s3: Any) -> CallbackLocation:
    """A fresh bucket registered as a callback resource (``s3://key:secret@bucket/callbacks/``)."""
    bucket = f"cb-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    uri = f"s3://test:test@{bucket}/callbacks/"
    resource = vidicore.call("POST", "resource/callback", json={"callback": {"uri": uri}})
    return CallbackLocation(id=str(resource["id"]), bucket=bucket, prefix="callbacks/")


@pytest.fixture
def clip_item(vidicore: VidiCore, data_dir: Path) -> str:
    """A new item holding the shared Hamilton clip."""
    return vidicore.import_file(data_dir / "face_recognition/examples/short_hamilton_clip.mp4")


@pytest.fixture
def collection_name() -> str:
    """A unique unknown-collection name that also tries to break out of XML and JavaScript."""
    return f'Found "]]></script> {uuid.uuid4().hex[:8]}'
