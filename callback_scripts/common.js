/*
 * vidiplug callback helpers, prepended to every vidiplug callback script.
 *
 * Static, versioned code (ES5: runs in GraalJS, Rhino and QuickJS). The data a script acts
 * on reaches it only as the global DATA, a JSON literal written by vidiplug's serializer.
 * Every call into VidiCore goes through attempt(), so a failure throws an Error that says
 * what was being done ("adding item VX-7 to collection VX-2 failed: HTTP 404 ...").
 */
var vidiplug = (function () {
  "use strict";

  var PAGE_SIZE = 100;
  var SEARCH_BATCH = 50;
  var IMPORT_WAIT_MS = 120000;
  var POLL_PAUSE_MS = 250;
  var ENDED_WELL = { FINISHED: true, FINISHED_WARNING: true };
  var ENDED_BADLY = { FAILED_TOTAL: true, ABORTED: true, ABORT_PENDING: true, ABORTED_PENDING: true };

  function describe(error) {
    if (error === null || error === undefined) { return "unknown error"; }
    if (error.message !== undefined && error.message !== null && String(error.message) !== "") {
      return String(error.message);
    }
    return String(error);
  }

  /* Run fn() and return its value; if it throws, throw an Error naming `what`. */
  function attempt(what, fn) {
    try {
      return fn();
    } catch (error) {
      throw new Error(what + " failed: " + describe(error));
    }
  }

  /*
   * Whether an error thrown by an api call says the resource does not exist (HTTP 404,
   * ExceptionDocument notFound). VidiCore's api throws on an HTTP error; no status field is
   * documented on rich() results, so the error's text is what there is to read.
   */
  function isNotFound(error) {
    return /(^|[^0-9])404([^0-9]|$)|notFound|not found/i.test(describe(error));
  }

  /*
   * Record key=value (a string) for the operator and the service. VidiCore documents the
   * "job" object (job.getData/setData) for JavaScript job tasks, not for callback scripts, so
   * the value is always logged, and each script also returns its records as its value; only
   * where a "job" object exists is it stored as job data too.
   */
  function record(jobId, key, value) {
    if (typeof job !== "undefined" && job !== null && typeof job.setData === "function") {
      attempt("recording " + key + " in job " + jobId, function () { return job.setData(key, value); });
    }
    logger.log("vidiplug " + jobId + ": " + key + "=" + value);
    var result = {};
    result[key] = value;
    return result;
  }

  /* The job data `key`, or null where there is no "job" object (callback scripts) or no such key. */
  function jobData(key) {
    if (typeof job === "undefined" || job === null || typeof job.getData !== "function") {
      return null;
    }
    var value = job.getData(key);
    return value === undefined ? null : value;
  }

  /* Wait about ms milliseconds: Thread.sleep through GraalJS's Java interop, else not at all. */
  function pause(ms) {
    if (typeof Java !== "undefined" && Java !== null && typeof Java.type === "function") {
      Java.type("java.lang.Thread").sleep(ms);
    }
  }

  /*
   * Wait until job jobId (an import: VidiCore imports asynchronously, and the shape exists only
   * once its job has FINISHED) has ended, by polling GET job/{id}. Throws when the job fails or
   * is aborted, or has not ended within IMPORT_WAIT_MS.
   */
  function waitForJob(jobId, what) {
    var deadline = new Date().getTime() + IMPORT_WAIT_MS;
    for (;;) {
      var current = attempt(what + ": reading job " + jobId, function () {
        return api.path("job").path(jobId).get();
      });
      var state = String(current.status);
      if (ENDED_WELL[state] === true) { return; }
      if (ENDED_BADLY[state] === true) { throw new Error(what + ": job " + jobId + " ended " + state); }
      if (new Date().getTime() > deadline) {
        throw new Error(what + ": job " + jobId + " still " + state + " after " + IMPORT_WAIT_MS + " ms");
      }
      pause(POLL_PAUSE_MS);
    }
  }

  /* VidiCore's JSON shows a repeatable element once as an object, several times as an array. */
  function asList(value) {
    if (value === null || value === undefined) { return []; }
    return Object.prototype.toString.call(value) === "[object Array]" ? value : [value];
  }

  /* A set of strings as an object without a prototype: set[key] === true for members. */
  function toSet(values) {
    var set = Object.create(null);
    asList(values).forEach(function (value) { set[String(value)] = true; });
    return set;
  }

  /* The value texts of every field `name` in a container (timespan or group) and its groups. */
  function collectValues(container, name, found) {
    asList(container.field).forEach(function (field) {
      if (field.name === name) {
        asList(field.value).forEach(function (value) {
          found.push(String(value !== null && typeof value === "object" ? value.value : value));
        });
      }
    });
    asList(container.group).forEach(function (group) { collectValues(group, name, found); });
    return found;
  }

  /* The timespans of a MetadataDocument, a MetadataListDocument or an ItemDocument. */
  function timespansOf(document) {
    if (document === null || document === undefined) { return []; }
    if (document.item !== undefined) {
      var spans = [];
      asList(document.item).forEach(function (item) { spans = spans.concat(timespansOf(item)); });
      return spans;
    }
    if (document.metadata !== undefined) { return timespansOf(document.metadata); }
    return asList(document.timespan);
  }

  function metadataValues(document, name) {
    var found = [];
    timespansOf(document).forEach(function (span) { collectValues(span, name, found); });
    return found;
  }

  /* Every hit of a search (PUT item / PUT collection), page by page. */
  function searchAll(what, path, search, listKey, query) {
    var hits = [];
    var first = 1;
    var entries;
    var page;
    do {
      page = attempt(what, function () {
        var request = api.path(path).queryParam("first", String(first))
          .queryParam("number", String(PAGE_SIZE));
        asList(query).forEach(function (pair) { request = request.queryParam(pair[0], pair[1]); });
        return request.input(search).put();
      });
      entries = asList(page === null || page === undefined ? null : page[listKey]);
      hits = hits.concat(entries);
      first += entries.length;
    } while (entries.length === PAGE_SIZE &&
             (page.hits === undefined || first <= Number(page.hits)));
    return hits;
  }

  /*
   * Which of `fingerprints` an item still carries as vcs_face_externalId: an object mapping
   * each such fingerprint to the ids of its items. Searches in batches, then compares the
   * values exactly (a search value may be read as a wildcard pattern).
   */
  function itemsByExternalId(fingerprints) {
    var wanted = asList(fingerprints);
    var owners = Object.create(null);
    var start;
    for (start = 0; start < wanted.length; start += SEARCH_BATCH) {
      var batch = wanted.slice(start, start + SEARCH_BATCH);
      var inBatch = toSet(batch);
      var search = { operator: { operation: "OR", field: batch.map(function (fingerprint) {
        return { name: "vcs_face_externalId", value: [{ value: fingerprint }] };
      }) } };
      var items = searchAll("searching items by vcs_face_externalId", "item", search, "item",
                            [["content", "metadata"], ["field", "vcs_face_externalId"]]);
      items.forEach(function (item) {
        metadataValues(item, "vcs_face_externalId").forEach(function (value) {
          if (inBatch[value] === true) {
            owners[value] = (owners[value] || []).concat([item.id]);
          }
        });
      });
    }
    return owners;
  }

  /* A generic (-INF..+INF) MetadataDocument setting each [name, value] pair. */
  function genericMetadata(pairs) {
    return { timespan: [{ start: "-INF", end: "+INF", field: pairs.map(function (pair) {
      return { name: pair[0], value: [{ value: pair[1] }] };
    }) }] };
  }

  function putItemMetadata(itemId, document, what) {
    return attempt(what + " on item " + itemId, function () {
      return api.path("item").path(itemId).path("metadata").input(document).put();
    });
  }

  /* The ids of an item's shapes, those tagged `tag` only when a tag is given. */
  function shapeIds(itemId, tag) {
    var answer = attempt("listing the shapes of item " + itemId, function () {
      var request = api.path("item").path(itemId).path("shape");
      return (tag ? request.queryParam("tag", tag) : request).get();
    });
    return asList(answer === null || answer === undefined ? null : answer.uri).map(String);
  }

  function setShapeValue(itemId, shapeId, key, value) {
    attempt("setting " + key + "=" + value + " on shape " + shapeId + " of item " + itemId,
            function () {
              return api.path("item").path(itemId).path("shape").path(shapeId)
                .path("metadata").path(key).input(value, "text").put();
            });
  }

  return {
    attempt: attempt,
    describe: describe,
    record: record,
    waitForJob: waitForJob,
    jobData: jobData,
    isNotFound: isNotFound,
    asList: asList,
    toSet: toSet,
    timespansOf: timespansOf,
    metadataValues: metadataValues,
    searchAll: searchAll,
    itemsByExternalId: itemsByExternalId,
    genericMetadata: genericMetadata,
    putItemMetadata: putItemMetadata,
    shapeIds: shapeIds,
    setShapeValue: setShapeValue,
    DELETED_FINGERPRINTS_KEY: "vidiplugDeletedFingerprints"
  };
})();
