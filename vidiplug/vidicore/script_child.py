"""The script process: ``python -m vidiplug.vidicore.script_child`` runs one callback script in QuickJS.

Direct mode runs vidiplug's own CallbackDocuments here instead of in VidiCore. The child
builds VidiCore's documented script objects (reference §10.2, §10.4): an immutable ``api``
builder and ``logger``; there is no ``job`` (callback scripts get none). Every ``api``
call and log line is relayed to the parent (script_runner.ScriptRunner) as one JSON line on
stdout, answered with one JSON line on stdin; the parent makes the REST call. Data crosses
only as JSON strings, the script source is handed over as a value. QuickJS here has no
``std``/``os`` modules, no ``require`` and no I/O of its own.

``Java.type("java.lang.Thread").sleep(ms)`` is the one piece of GraalJS's Java interop the
scripts use (to pause between polls of an import job); the child offers just that, relayed
to the parent, which sleeps.
"""

from __future__ import annotations

import json
import resource
import sys
from collections.abc import Callable

import quickjs

PRELUDE = r"""
(function () {
  "use strict";
  var apiCall = globalThis.__vp_api, logCall = globalThis.__vp_log, sleepCall = globalThis.__vp_sleep;
  delete globalThis.__vp_api; delete globalThis.__vp_log; delete globalThis.__vp_sleep;

  function invoke(fn, request) {
    var reply = JSON.parse(fn(JSON.stringify(request)));
    if (reply.error !== undefined) { throw new Error(reply.error); }
    return reply.result;
  }

  function Api(spec) { this._spec = spec; Object.freeze(this); }
  function next(api, change) {
    var spec = JSON.parse(JSON.stringify(api._spec));
    change(spec);
    return new Api(spec);
  }
  Api.prototype.path = function (p) { return next(this, function (s) { s.path.push(String(p)); }); };
  Api.prototype.queryParam = function (key, value) {
    return next(this, function (s) { s.query.push([String(key), String(value)]); });
  };
  Api.prototype.header = function (key, value) {
    return next(this, function (s) { s.headers.push([String(key), String(value)]); });
  };
  Api.prototype.dataType = function (type) { return next(this, function (s) { s.dataType = String(type); }); };
  Api.prototype.input = function (data, type) {
    if (typeof data === "string") {
      if (type === undefined) { throw new TypeError("api.input: a type is mandatory for string input"); }
      return next(this, function (s) { s.input = data; s.inputType = String(type); });
    }
    var text = JSON.stringify(data);
    return next(this, function (s) { s.input = text; s.inputType = "json"; });
  };
  Api.prototype.timeout = function (ms) { return next(this, function (s) { s.timeoutMs = Number(ms); }); };
  Api.prototype.rich = function () { return next(this, function (s) { s.rich = true; }); };
  function perform(api, method) {
    var spec = JSON.parse(JSON.stringify(api._spec));
    spec.method = method;
    var reply = invoke(apiCall, spec);
    var output = reply.json ? JSON.parse(reply.body) : (reply.body === "" ? null : reply.body);
    if (spec.rich) { return Object.freeze({ output: output, response: reply.body }); }
    return output;
  }
  Api.prototype.get = function () { return perform(this, "GET"); };
  Api.prototype.put = function () { return perform(this, "PUT"); };
  Api.prototype.post = function () { return perform(this, "POST"); };
  Api.prototype["delete"] = function () { return perform(this, "DELETE"); };
  Object.freeze(Api.prototype);

  var api = new Api({ path: [], query: [], headers: [], dataType: null, input: null, inputType: null,
                      timeoutMs: null, rich: false });
  function level(name) {
    return function (message) { invoke(logCall, { level: name, message: String(message) }); };
  }
  var logger = Object.freeze({ log: level("info"), info: level("info"), warn: level("warn"),
                               error: level("error") });
  var thread = Object.freeze({ sleep: function (ms) { invoke(sleepCall, { ms: Number(ms) }); } });
  var Java = Object.freeze({ type: function (name) {
    if (String(name) === "java.lang.Thread") { return thread; }
    throw new TypeError("Java.type(" + String(name) + ") is not available");
  } });

  function constant(name, value) {
    Object.defineProperty(globalThis, name, { value: value, writable: false, configurable: false });
  }
  constant("api", api);
  constant("logger", logger);
  constant("Java", Java);
  constant("__vp_run", function () {
    var source = globalThis.__vp_src;
    delete globalThis.__vp_src;
    var value = (0, eval)(source);
    var text = value === undefined ? undefined : JSON.stringify(value);
    return text === undefined ? "null" : text;
  });
})();
"""


def _relay(kind: str) -> Callable[[str], str]:
    def call(payload: str) -> str:
        sys.stdout.write(json.dumps({"call": kind, "payload": payload}) + "\n")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            return json.dumps({"error": "the service went away"})
        return str(json.loads(line)["reply"])
    return call


def main() -> int:
    """Run the script described on stdin's first line; report its value (or error) on stdout."""
    request = json.loads(sys.stdin.readline())
    cpu_s = int(request.get("cpuLimitS", 60))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    context = quickjs.Context()
    context.set_memory_limit(int(request["memoryLimit"]))
    context.set_max_stack_size(1024 * 1024)
    for kind in ("api", "log", "sleep"):
        context.add_callable(f"__vp_{kind}", _relay(kind))
    context.eval(PRELUDE)
    context.set("__vp_src", str(request["source"]))
    try:
        answer = {"done": str(context.eval("globalThis.__vp_run()"))}
    except quickjs.JSException as exc:
        text = str(exc).strip()
        answer = {"error": text.splitlines()[0] if text else "error"}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
