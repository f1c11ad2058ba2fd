"""Bring your own model in bridge mode: the service configuration declares the model's field group."""

from __future__ import annotations

from pathlib import Path

import pytest

from insight_reading import insight_groups
from operator_api import Operator

pytestmark = pytest.mark.timeout(600)
HAMILTON = "face_recognition/examples/short_hamilton_clip.mp4"


def test_bridge_mode_writes_and_replaces_custom_insights(start_service, operator: Operator, data_dir: Path) -> None:
    app = start_service(models__run=("shot-type",))
    reg = app.registration
    assert reg is not None and reg.resource_id is not None and reg.callback_id is not None
    operator.call("GET", "metadata-field/field-group/vidiplug_insight_shot_type")
    clip = operator.import_file(data_dir / HAMILTON)

    for _ in range(2):
        job = operator.wait_job(operator.analyze(clip, reg.resource_id, reg.callback_id, ModelFramesWith="faces"))
        assert job["status"] == "FINISHED"
        groups = insight_groups(operator, clip)
        shots = groups["vidiplug_insight_shot_type"]
        assert shots and any(name.startswith("adu_face_") for name in groups)
        if _ == 0:
            first = [(g["start"], g["end"], g["vidiplug_insightType"]) for g in shots]
    assert sorted((g["start"], g["end"], g["vidiplug_insightType"]) for g in shots) == sorted(first)
