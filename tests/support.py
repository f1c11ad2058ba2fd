"""Helpers every test folder shares: waiting on a condition, and names that try to break out of a URL, JSON,
XML or JavaScript.

Importable as ``support`` from any test module (pytest puts tests/ on sys.path for its conftest).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

# Names that try to break out of a URL, JSON, XML or JavaScript; each must come back unchanged.
HOSTILE_NAMES = [
    '"); api.path("item").delete(); //',
    "'); api.path('item').delete(); //",
    "]]>",
    "<![CDATA[x]]>",
    "</script><script>alert(1)</script>",
    "<b>&amp;</b>",
    "&lt;&#x41;&unknown;",
    '<!DOCTYPE x [<!ENTITY e "boom">]>&e;',
    "line\u2028separator",
    "paragraph\u2029separator",
    "Zoë 😀 👩‍👩‍👧 Ωμέγα 名前 اسم",
    "a/b?c=d&e#f %2F ../..",
    "\u202eright-to-left override",
    "tab\tnewline\ncarriage\rreturn",
    "  spaces around  ",
    "back\\slash ${template} `tick`",
]


def wait_for(condition: Callable[[], Any], timeout_s: float = 60.0, what: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy and return that; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout_s} s waiting for {what}")


def script_results(job: dict[str, Any]) -> dict[str, Any]:
    """What a job's callback scripts returned (their values merged), from its ``log/task`` entries.

    Callback scripts get no ``job`` object on VidiCore, so they return what they record as
    their value; mock_vidicore keeps each script's value as JSON in the task's ``result``.
    """
    tasks = (job.get("log") or {}).get("task") or []
    merged: dict[str, Any] = {}
    for task in tasks if isinstance(tasks, list) else [tasks]:
        value = json.loads(task["result"]) if task.get("result") else None
        if isinstance(value, dict):
            merged.update(value)
    return merged
