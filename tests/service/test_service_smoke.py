"""The service registers, configures VidiCore, and runs an analyze job end to end (smoke)."""

from __future__ import annotations

from pathlib import Path

from operator_api import Operator, field_values


def test_registers_and_analyzes_a_clip(start_service, operator: Operator, data_dir: Path) -> None:
    app = start_service()
    reg = app.registration
    assert reg is not None
    item = operator.import_file(data_dir / "face_recognition/examples/short_hamilton_clip.mp4")
    job_id = operator.analyze(item, reg.resource_id, reg.callback_id)
    job = operator.wait_job(job_id)
    assert job["status"] == "FINISHED", job
    assert field_values(operator.metadata(item), "adu_av_valueId")
