"""`vidiplug demo`, the README's newcomer path: the whole workflow on loopback with bundled media."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

# How the operator asks for work, as the demo prints it, in each mode.
REQUESTS = {
    "direct": (r"\$ PUT /API/collection/VX-\d+/VX-\d+\?type=item   \(into the analysis queue\)",
               r"vidiplug_trainingRequested='true'", r"vidiplug_status=FINISHED"),
    "bridge": (r"\$ POST /API/item/VX-\d+/analyze\?resourceId=VX-\d+&callbackId=VX-\d+",
               r"\$ POST /API/collection/VX-\d+/train\?resourceId=", r"job VX-\d+: FINISHED"),
}


@pytest.mark.parametrize("mode", ["direct", "bridge"])
def test_demo_names_deletes_trains_and_reanalyses_on_the_bundled_sample(tmp_path: Path, mode: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vidiplug", "demo", "--mode", mode, "--workdir", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=400, check=False, stdin=subprocess.DEVNULL,
    )
    out = result.stdout

    assert result.returncode == 0, result.stdout + result.stderr
    # The mock is as strict as VidiCore in direct mode; the operator's calls are that mode's.
    assert ("(without --bridge)" if mode == "direct" else "(with --bridge)") in out.splitlines()[0]
    for request in REQUESTS[mode]:
        assert re.search(request, out), request
    assert ("POST /API" in out) == (mode == "bridge")
    # Two people on the sample's timeline before any training, each its own unknown item.
    first = out.split("\n2. ")[0]
    assert re.search(r"2\.00-\s+6\.00 s\s+Unknown\s", first) and re.search(r"7\.00-\s+11\.00 s\s+Unknown\s", first)
    assert "2 unknown face items" in first
    # Naming the first shows on the timeline; deleting the second keeps it out for good.
    named = out.split("\n3. ")[0].split("\n2. ")[1]
    assert re.search(r"\$ PUT /API/item/VX-\d+/metadata   \(vcs_face_value='Eileen Collins'\)", named)
    assert re.search(r"2\.00-\s+6\.00 s\s+Eileen Collins\s", named)
    assert re.search(r"\$ DELETE /API/item/VX-\d+", out.split("\n4. ")[0].split("\n3. ")[1])
    assert "was not re-imported" in out
    # The training photo is accepted, and the last analysis names her and not the deleted face.
    assert "vcs_face_method=TRAINED" in out and "rejected" not in out
    final = out.split("\n5. ")[1]
    assert re.search(r"2\.00-\s+6\.00 s\s+Eileen Collins\s", final)
    assert not re.search(r"7\.00-\s+11\.00 s", final)
    # The shipped example model (shot-type) ran too: its insights are on the item's timeline.
    assert re.search(r"shot-type: (Close-up|Medium shot|Wide shot) +0:00:0\d\.\d\d to ", final)
    assert "Traceback" not in result.stderr and "WARNING" not in result.stderr
