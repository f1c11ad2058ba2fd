"""The static JavaScript that builds `api`, `job` and `logger` (reference §10.2, §10.4, §10.5).

It captures the three Python callables, deletes their global names, and
defines immutable builders; data travels only as JSON strings.
"""

from __future__ import annotations

PRELUDE = r"""
(function () {
  "use strict";
  var apiCall = globalThis.__mv_api, jobCall = globalThis.__mv_job, logCall = globalThis.__mv_log;
  var withJob = globalThis.__mv_with_job === true;
  delete globalThis.__mv_api; delete globalThis.__mv_job; delete globalThis.__mv_log;
  delete globalThis.__mv_with_job;

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
  Api.prototype.path = function (p) {
    return next(this, function (s) { s.path.push(String(p)); });
  };
  Api.prototype.queryParam = function (key, value) {
    return next(this, function (s) { s.query.push([String(key), String(value)]); });
  };
  Api.prototype.header = function (key, value) {
    return next(this, function (s) { s.headers.push([String(key), String(value)]); });
  };
  Api.prototype.dataType = function (type) {
    return next(this, function (s) { s.dataType = String(type); });
  };
  Api.prototype.input = function (data, type) {
    if (typeof data === "string") {
      if (type === undefined) { throw new TypeError("api.input: a type is mandatory for string input"); }
      return next(this, function (s) { s.input = data; s.inputType = String(type); });
    }
    if (type !== undefined && String(type).indexOf("json") < 0) {
      throw new TypeError("api.input: objects are sent as JSON only");
    }
    var text = JSON.stringify(data);
    return next(this, function (s) { s.input = text; s.inputType = "json"; });
  };
  Api.prototype.user = function (name, password) {
    return next(this, function (s) {
      s.user = String(name);
      s.password = password === undefined ? null : String(password);
    });
  };
  Api.prototype.timeout = function (ms) {
    return next(this, function (s) { s.timeoutMs = Number(ms); });
  };
  Api.prototype.rich = function () {
    return next(this, function (s) { s.rich = true; });
  };
  function perform(api, method) {
    var spec = JSON.parse(JSON.stringify(api._spec));
    spec.method = method;
    var reply = invoke(apiCall, spec);
    var output = reply.json ? JSON.parse(reply.body) : (reply.body === "" ? null : reply.body);
    if (spec.rich) {
      // What public scripts read: output (parsed body), response (text), responseBytes.
      return Object.freeze({ output: output, response: reply.body,
                             responseBytes: Object.freeze(reply.bytes) });
    }
    return output;
  }
  Api.prototype.get = function () { return perform(this, "GET"); };
  Api.prototype.put = function () { return perform(this, "PUT"); };
  Api.prototype.post = function () { return perform(this, "POST"); };
  Api.prototype["delete"] = function () { return perform(this, "DELETE"); };
  Object.freeze(Api.prototype);

  var api = new Api({ path: [], query: [], headers: [], dataType: null, input: null,
                      inputType: null, user: null, password: null, timeoutMs: null, rich: false });

  function jobOp(op) {
    return function () {
      var args = Array.prototype.slice.call(arguments).map(function (a) {
        return Array.isArray(a) ? a.join(",") : String(a);
      });
      var result = invoke(jobCall, { op: op, args: args });
      if (op === "fail" || op === "fatalFail") { throw new Error(op + ": " + args[0]); }
      return result;
    };
  }
  var job = {};
  ["getId", "getStepId", "log", "getData", "setData", "deleteData", "getKeys", "containsKey",
   "getDataOrDefault", "getUser", "fail", "fatalFail", "wait"].forEach(function (op) {
    job[op] = jobOp(op);
  });
  Object.freeze(job);

  function level(name) {
    return function (message) { invoke(logCall, { level: name, message: String(message) }); };
  }
  var logger = Object.freeze({ log: level("info"), info: level("info"), warn: level("warn"),
                               error: level("error") });

  function constant(name, value) {
    Object.defineProperty(globalThis, name, { value: value, writable: false, configurable: false });
  }
  constant("api", api);
  if (withJob) { constant("job", job); }  // callback scripts get no `job` (documented for job tasks)
  constant("logger", logger);
  constant("__mv_run", function () {
    var source = globalThis.__mv_src;
    delete globalThis.__mv_src;
    var value = (0, eval)(source);
    var text = value === undefined ? undefined : JSON.stringify(value);
    return text === undefined ? "null" : text;
  });
})();
"""
