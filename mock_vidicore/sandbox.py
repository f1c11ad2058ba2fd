"""The script process: `python -m mock_vidicore.sandbox` runs one script in QuickJS.

The parent (jsapi.Sandbox) kills this process at the time limit; QuickJS's own
time limit cannot be used because it forbids calls into Python. Protocol, one
JSON object per line: parent sends {"source", "memoryLimit"}; the child sends
{"call": "api"|"job"|"log", "payload": str} and reads {"reply": str}; it ends
with {"done": json} or {"error": message}. Imports only quickjs and the prelude.
"""

from __future__ import annotations

import json
import resource
import sys
from collections.abc import Callable

import quickjs

from mock_vidicore.prelude import PRELUDE


def _relay(kind: str) -> Callable[[str], str]:
    def call(payload: str) -> str:
        sys.stdout.write(json.dumps({"call": kind, "payload": payload}) + "\n")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            return json.dumps({"error": "the server went away"})
        return str(json.loads(line)["reply"])
    return call


def main() -> int:
    """Run the script described on stdin's first line; report on stdout."""
    request = json.loads(sys.stdin.readline())
    cpu_s = int(request.get("cpuLimitS", 60))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    context = quickjs.Context()
    context.set_memory_limit(int(request["memoryLimit"]))
    context.set_max_stack_size(1024 * 1024)
    for kind in ("api", "job", "log"):
        context.add_callable(f"__mv_{kind}", _relay(kind))
    context.set("__mv_with_job", bool(request.get("withJob", False)))
    context.eval(PRELUDE)
    context.set("__mv_src", str(request["source"]))
    try:
        value = context.eval("globalThis.__mv_run()")
        answer = {"done": str(value)}
    except quickjs.JSException as exc:
        text = str(exc).strip()
        answer = {"error": text.splitlines()[0] if text else "error"}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
