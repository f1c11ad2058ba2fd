"""Bring your own model, round trip through VidiCore in direct mode (the strict mock, no bridge).

Jobs name configured or installed models only (``cognitive_service_Models``); the HTTP
models' URLs come from the service's settings. Custom insights land in their own field
groups; re-running a model replaces its groups and nothing else.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from insight_reading import insight_groups
from operator_api import Operator
from plugin_server import MARKUP, plugin_server
from test_direct_mode import DIRECT, HAMILTON, analyse, faces, mock_url  # noqa: F401 - mock_url: the strict mock

pytestmark = pytest.mark.timeout(600)
SHOT, ECHO, MARKED = "vidiplug_insight_shot_type", "vidiplug_insight_echo", "vidiplug_insight_markup"


def test_custom_insights_are_written_replaced_and_kept_apart(start_service, operator: Operator,
                                                             data_dir: Path) -> None:
    with plugin_server() as server:
        start_service(**DIRECT, models__http=(f"echo={server.url('/echo/echo')}",
                                              f"markup={server.url('/markup/markup')}",
                                              f"down={server.url('/down/down')}"),
                      models__retries=1, models__retry_backoff_s=0.01, models__timeout_s=30.0)
        for group in (SHOT, ECHO, MARKED, "vidiplug_insight_down"):
            operator.call("GET", f"metadata-field/field-group/{group}")  # declared at registration

        clip = operator.import_file(data_dir / HAMILTON)
        status, message = analyse(operator, clip, "cognitive_service_Models=shot-type,echo,markup",
                                  "cognitive_service_ModelFrameInterval=1")
        assert status == "FINISHED", message
        first = insight_groups(operator, clip)
        face_spans = faces(operator, clip)
        assert face_spans and first[SHOT] and len(first[ECHO]) >= 5
        sent = server.bodies("/echo/echo")[-1]
        assert len(first[ECHO]) == len(sent["frames"])
        assert any(frame["faces"] for frame in sent["frames"])
        assert {g["vidiplug_insightType"] for g in first[MARKED]} == {MARKUP}  # stored as text, exactly
        assert {g["vidiplug_insightType"] for g in first[SHOT]} <= {"Close-up", "Medium shot", "Wide shot"}
        assert all(g["vidiplug_insightModel"] == "shot-type" for g in first[SHOT])

        # Re-run shot-type on two frames only, with a failing plugin beside it.
        status, message = analyse(operator, clip, "cognitive_service_Models=shot-type,down",
                                  "cognitive_service_ModelFramesWith=faces", "cognitive_service_ModelPageSize=2")
        assert status == "FINISHED", message
        assert message.startswith("done; model down: answer: HTTP 500 (2 tries)")  # the operator sees why
        second = insight_groups(operator, clip)
        assert 1 <= len(second[SHOT]) <= 2  # replaced, not added to
        assert second[ECHO] == first[ECHO] and second[MARKED] == first[MARKED]  # other models untouched
        assert len(faces(operator, clip)) == len(face_spans)  # the faces kept
        assert "vidiplug_insight_down" not in second
        assert server.hits["down"] == 2

        # A job names models, never addresses.
        for asked in ("http://127.0.0.1:1/steal", "no-such-model"):
            status, message = analyse(operator, clip, f"cognitive_service_Models={asked}")
            assert status == "FAILED" and "cognitive_service_Models" in message
        assert insight_groups(operator, clip)[SHOT] == second[SHOT]
