"""The callback JavaScript sandbox: a QuickJS child process with only `api`, `job` and `logger`.

Data crosses between Python and JavaScript only as JSON strings (json.dumps /
JSON.parse); the script source is handed over as a value, never spliced into
other code. QuickJS here has no `std`/`os` modules, no `require`, no I/O.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mock_vidicore.redaction import redact
from mock_vidicore.web import Request, Response, parse_query

log = logging.getLogger("mock_vidicore.script")

Transport = Callable[[Request], Response]
_MEDIA = {"json": "application/json", "xml": "application/xml", "text": "text/plain"}


class ScriptError(Exception):
    """A script threw, timed out, ran out of memory, or called job.fail; str() says which."""


class JobHandle(Protocol):
    """What the `job` object may do; implemented over the store by the executor."""

    def call(self, op: str, args: list[str]) -> Any:
        """Run one `job.*` operation (getId, getData, setData, ...) and return a JSON value."""


@dataclass(frozen=True)
class Credentials:
    """The user `api` calls run as (the job owner unless the script calls `api.user`)."""

    user: str
    password: str


class Sandbox:
    """Runs one script with a time and memory limit; one instance per script run, one thread."""

    def __init__(self, transport: Transport, credentials: Credentials, job: JobHandle | None,
                 label: str, time_limit_s: float, memory_limit_bytes: int) -> None:
        self._transport = transport
        self._credentials = credentials
        self._job = job
        self._label = label
        self._time_limit_s = time_limit_s
        self._memory_limit_bytes = memory_limit_bytes
        self.failure = ""

    def run(self, source: str) -> str:
        """Run ``source``; return its last expression's value as JSON ("null" if none).

        The script runs in a child process (mock_vidicore.sandbox) that is
        killed at ``time_limit_s`` (wall clock, including its `api` calls).
        Raises ScriptError on a thrown error, the time limit, or job.fail.
        """
        handlers = {"api": self._guarded(self._api), "job": self._guarded(self._job_call),
                    "log": self._guarded(self._log)}
        deadline = time.monotonic() + self._time_limit_s
        package_root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)}
        child = subprocess.Popen([sys.executable, "-m", "mock_vidicore.sandbox"], env=env,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if child.stdin is None or child.stdout is None:
            raise ScriptError("could not start the script process")
        try:
            child.stdin.write(json.dumps({"source": source, "withJob": self._job is not None,
                                          "memoryLimit": self._memory_limit_bytes,
                                          "cpuLimitS": math.ceil(self._time_limit_s) + 1}) + "\n")
            child.stdin.flush()
            with selectors.DefaultSelector() as selector:
                selector.register(child.stdout, selectors.EVENT_READ)
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not selector.select(remaining):
                        raise ScriptError(
                            f"script exceeded its time limit of {self._time_limit_s:g} s")
                    line = child.stdout.readline()
                    if not line:
                        raise ScriptError(self.failure or "script process died "
                                          f"(exit status {child.wait()}; memory or CPU limit?)")
                    message = json.loads(line)
                    if "call" in message:
                        reply = handlers[message["call"]](message["payload"])
                        child.stdin.write(json.dumps({"reply": reply}) + "\n")
                        child.stdin.flush()
                    elif "error" in message:
                        raise ScriptError(self.failure or redact(str(message["error"])))
                    else:
                        if self.failure:
                            raise ScriptError(self.failure)
                        return str(message["done"])
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            child.stdin.close()
            child.stdout.close()

    def _guarded(self, function: Callable[[dict[str, Any]], Any]) -> Callable[[str], str]:
        # A Python exception inside a QuickJS callable corrupts the interpreter
        # state, so every call answers a JSON envelope and the prelude throws.
        def call(payload: str) -> str:
            try:
                return json.dumps({"result": function(json.loads(payload))})
            except ScriptError as exc:
                return json.dumps({"error": str(exc)})
            except Exception as exc:  # noqa: BLE001 - translated into a JS error, not swallowed
                log.exception("%s: internal error in a script call", self._label)
                return json.dumps({"error": f"internal error: {type(exc).__name__}"})
        return call

    def _api(self, spec: dict[str, Any]) -> dict[str, Any]:
        path = "/".join(str(p) for p in spec["path"])
        path, _, inline_query = path.partition("?")
        query = parse_query(inline_query) + [(str(k), str(v)) for k, v in spec["query"]]
        data_type = spec.get("dataType") or ""
        accept = _MEDIA.get(data_type, data_type) or "application/json, application/xml"
        headers = {str(k).lower(): str(v) for k, v in spec["headers"]}
        headers.setdefault("accept", accept)
        body = b""
        if spec.get("input") is not None:
            kind = str(spec.get("inputType") or "json")
            headers["content-type"] = _MEDIA.get(kind, kind)
            body = str(spec["input"]).encode("utf-8")
        credentials = self._credentials
        if spec.get("user"):
            credentials = Credentials(str(spec["user"]), str(spec.get("password") or ""))
        request = Request(method=spec["method"], path="/API/" + path.strip("/"), query=query,
                          headers=headers, body=body)
        request.headers["authorization"] = _basic(credentials)
        response = self._transport(request)
        text = response.body.decode("utf-8", errors="replace")
        is_json = "json" in response.content_type
        if response.status >= 400:  # with or without rich(), as VidiCore's api throws
            raise ScriptError(f"HTTP {response.status} {spec['method']} {path}: "
                              f"{_short(text)}")
        reply: dict[str, Any] = {"json": is_json and bool(text), "body": text}
        if spec.get("rich"):
            reply["bytes"] = list(response.body)
        return reply

    def _job_call(self, request: dict[str, Any]) -> Any:
        op, args = str(request["op"]), [str(a) for a in request.get("args", [])]
        if op in ("fail", "fatalFail"):
            self.failure = f"{op}: {args[0] if args else ''}"
            return None
        if self._job is None:
            raise ScriptError("no job in this context")
        return self._job.call(op, args)

    def _log(self, request: dict[str, Any]) -> None:
        level = {"warn": logging.WARNING, "error": logging.ERROR}.get(request.get("level", ""),
                                                                      logging.INFO)
        log.log(level, "%s: %s", self._label, redact(str(request.get("message", ""))))


def _basic(credentials: Credentials) -> str:
    token = base64.b64encode(f"{credentials.user}:{credentials.password}".encode()).decode()
    return f"Basic {token}"


def _short(text: str) -> str:
    return redact(" ".join(text.split()))[:300]
