"""ScriptRunner: run vidiplug's CallbackDocuments against VidiCore's REST API, from the service.

In direct mode (no VidiNet-style hand-off) nothing inside VidiCore runs the callback
scripts, so the service runs them itself: the same scripts, in the same order, with the
same ``api`` builder VidiCore documents (reference §10.2), each call sent as a documented
REST call through a VidiCoreClient. One implementation of "what a result does to
VidiCore" serves both modes, and the CallbackDocuments stay the job's replayable record.

Each script runs in a child QuickJS process (script_child.py) under CPU, memory and wall
time limits; the parent relays its ``api`` calls and log lines.
"""

from __future__ import annotations

import json
import logging
import selectors
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote

from lxml import etree

from vidiplug.errors import ScriptFailed, VidiCoreError
from vidiplug.logs import redact
from vidiplug.vidicore.client import VidiCoreClient

log = logging.getLogger("vidiplug.scripts")
NS = "http://xml.vidispine.com/schema/vidispine"
_MEDIA = {"json": "application/json", "xml": "application/xml", "text": "text/plain"}
MAX_PAUSE_S = 5.0  # one Thread.sleep a script asks for, at most


class ScriptFile(Protocol):
    """A callback bundle file, as vidiplug.callbacks.bundle.CallbackFile has it."""

    @property
    def name(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def is_script(self) -> bool: ...


@dataclass(frozen=True)
class ScriptOutcome:
    """One script run: its file name and its value (JSON text; ``null`` when it returned nothing)."""

    name: str
    value: str

    def records(self) -> dict[str, Any]:
        """The script's value as a mapping (vidiplug's scripts return their ``lib.record`` entries)."""
        try:
            parsed = json.loads(self.value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}


def script_of(document: bytes, name: str) -> str:
    """The JavaScript of CallbackDocument ``document``; ScriptFailed naming ``name`` when it has none."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        raise ScriptFailed(f"callback document {name} is not well-formed XML: {exc}") from exc
    script = root.find(f"{{{NS}}}script")
    if root.tag != f"{{{NS}}}CallbackDocument" or script is None or not (script.text or "").strip():
        raise ScriptFailed(f"callback document {name} is not a CallbackDocument with a script")
    return script.text or ""


class ScriptRunner:
    """Runs scripts whose ``api`` calls go to VidiCore through ``client`` (as the client's user).

    ``time_limit_s``: wall time one script may take (it may wait for import jobs);
    ``cpu_limit_s`` and ``memory_limit_bytes`` bound the interpreter itself.
    """

    def __init__(self, client: VidiCoreClient, *, time_limit_s: float = 1800.0, cpu_limit_s: int = 120,
                 memory_limit_bytes: int = 256 * 1024 * 1024, secrets: Sequence[str] = ()) -> None:
        self._client = client
        self._time_limit_s = time_limit_s
        self._cpu_limit_s = cpu_limit_s
        self._memory_limit_bytes = memory_limit_bytes
        self._secrets = tuple(s for s in secrets if s)

    def run_bundle(self, files: Sequence[ScriptFile], label: str) -> list[ScriptOutcome]:
        """Run every script of a bundle in lexical order of name, as VidiCore's executor does.

        Stops at the first failing script: raises ScriptFailed naming it and saying why.
        """
        outcomes = []
        for file in sorted((f for f in files if f.is_script), key=lambda f: f.name):
            source = script_of(file.data, file.name)
            try:
                outcomes.append(ScriptOutcome(file.name, self.run(source, f"{label}/{file.name}")))
            except ScriptFailed as exc:
                raise ScriptFailed(f"callback script {file.name} of {label} failed: {exc}") from exc
        return outcomes

    def run(self, source: str, label: str) -> str:
        """Run one script; its value as JSON text. Raises ScriptFailed when it throws or runs too long."""
        child = subprocess.Popen([sys.executable, "-m", "vidiplug.vidicore.script_child"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 text=True, bufsize=1)
        assert child.stdin is not None and child.stdout is not None
        deadline = time.monotonic() + self._time_limit_s
        try:
            child.stdin.write(json.dumps({"source": source, "memoryLimit": self._memory_limit_bytes,
                                          "cpuLimitS": self._cpu_limit_s}) + "\n")
            child.stdin.flush()
            with selectors.DefaultSelector() as selector:
                selector.register(child.stdout, selectors.EVENT_READ)
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0 or not selector.select(timeout=left):
                        raise ScriptFailed(f"{label}: still running after {self._time_limit_s:g} s")
                    line = child.stdout.readline()
                    if not line:
                        raise ScriptFailed(f"{label}: the script process ended without an answer "
                                           "(out of CPU time or memory?)")
                    message = json.loads(line)
                    if "call" in message:
                        reply = self._answer(message["call"], message["payload"], label)
                        child.stdin.write(json.dumps({"reply": reply}) + "\n")
                        child.stdin.flush()
                    elif "error" in message:
                        raise ScriptFailed(self._redact(str(message["error"])))
                    else:
                        return str(message["done"])
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            child.stdin.close()
            child.stdout.close()

    def _answer(self, kind: str, payload: str, label: str) -> str:
        """One relayed call as a JSON envelope: ``{"result": ...}`` or ``{"error": text}`` (the script throws)."""
        request = json.loads(payload)
        try:
            if kind == "api":
                return json.dumps({"result": self._api(request)})
            if kind == "log":
                log.info("%s: %s", label, self._redact(str(request.get("message", ""))))
                return json.dumps({"result": None})
            if kind == "sleep":
                time.sleep(max(0.0, min(MAX_PAUSE_S, float(request.get("ms", 0)) / 1000.0)))
                return json.dumps({"result": None})
            return json.dumps({"error": f"unknown call {kind!r}"})
        except VidiCoreError as exc:
            return json.dumps({"error": self._redact(str(exc))})
        except (ValueError, TypeError, KeyError) as exc:
            return json.dumps({"error": f"bad api call: {type(exc).__name__}: {self._redact(str(exc))}"})

    def _api(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Send the request an ``api`` builder describes; the answer's body and whether it is JSON."""
        joined = "/".join(str(p).strip("/") for p in spec["path"] if str(p).strip("/"))
        path, _, inline = joined.partition("?")
        parts = path.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"unusable api path {path!r}")
        quoted = "/".join(quote(part, safe="@:,;=+-._~") for part in parts)
        params = [*parse_qsl(inline, keep_blank_values=True), *((str(k), str(v)) for k, v in spec["query"])]
        headers = {str(k): str(v) for k, v in spec["headers"]}
        data_type = str(spec.get("dataType") or "json")
        headers["Accept"] = _MEDIA.get(data_type, data_type)
        body: bytes | None = None
        if spec.get("input") is not None:
            kind = str(spec.get("inputType") or "json")
            headers["Content-Type"] = _MEDIA.get(kind, kind)
            body = str(spec["input"]).encode("utf-8")
        response = self._client.send_raw(str(spec["method"]), quoted, params=params, data=body, headers=headers)
        text = response.text
        is_json = "json" in response.headers.get("Content-Type", "") and text.strip() != ""
        return {"body": text, "json": is_json}

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)
