/*
 * vidiplug analyze callback, part 2 of 2: who appears when, as timed ADU metadata.
 *
 * DATA: {scriptVersion, jobId, itemId, analyzerId, groupName,
 *        previouslyImported: [fingerprint],
 *        spans: [{start, end, faces: [{fingerprint, group}]}]}
 * where each `group` is one adu_face_{analyzerId} group in MetadataDocument JSON form.
 *
 * Re-analysis replaces: every earlier DATA.groupName group on the item is removed first,
 * then one timespan per span is written with the groups of its faces. Faces whose
 * fingerprint part 1 recorded as deleted (job data vidiplugDeletedFingerprints) are left
 * out; where there is no "job" object (VidiCore documents it for job tasks only) or no such
 * job data, the deleted fingerprints are looked up again.
 */
(function () {
  "use strict";
  var lib = vidiplug;
  var itemId = String(DATA.itemId);
  var groupName = String(DATA.groupName);

  function deletedFingerprints() {
    var recorded = null;
    try {
      recorded = lib.jobData(lib.DELETED_FINGERPRINTS_KEY);  // null without a "job" object
    } catch (error) {
      // No job data in this context: fall back to asking VidiCore below.
      logger.log("vidiplug " + DATA.jobId + ": job data unavailable (" + error + ")");
      recorded = null;
    }
    if (recorded !== null && recorded !== undefined) {
      return lib.toSet(String(recorded).split(",").filter(function (fp) { return fp !== ""; }));
    }
    var previous = lib.asList(DATA.previouslyImported);
    var owners = lib.itemsByExternalId(previous);
    return lib.toSet(previous.filter(function (fp) { return owners[fp] === undefined; }));
  }

  function removePreviousGroups() {
    var current = lib.attempt("reading the metadata of item " + itemId, function () {
      return api.path("item").path(itemId).path("metadata").get();
    });
    var removals = [];
    lib.timespansOf(current).forEach(function (span) {
      var ours = lib.asList(span.group).filter(function (group) { return group.name === groupName; });
      if (ours.length > 0) {
        removals.push({ start: span.start, end: span.end,
                        group: [{ name: groupName, mode: "remove" }] });
      }
    });
    if (removals.length > 0) {
      lib.putItemMetadata(itemId, { timespan: removals },
                          "removing " + removals.length + " earlier " + groupName + " timespans");
    }
    return removals.length;
  }

  var deleted = deletedFingerprints();
  var timespans = [];
  var dropped = 0;
  lib.asList(DATA.spans).forEach(function (span) {
    var groups = [];
    lib.asList(span.faces).forEach(function (face) {
      if (deleted[String(face.fingerprint)] === true) {
        dropped += 1;
      } else {
        groups.push(face.group);
      }
    });
    if (groups.length > 0) {
      timespans.push({ start: span.start, end: span.end, group: groups });
    }
  });
  var removed = removePreviousGroups();
  if (timespans.length > 0) {
    lib.putItemMetadata(itemId, { timespan: timespans },
                        "writing " + timespans.length + " " + groupName + " timespans");
  }
  logger.log("vidiplug " + DATA.jobId + " (" + DATA.scriptVersion + "): item " + itemId + ": " +
              removed + " earlier timespans replaced by " + timespans.length + ", " + dropped +
              " faces of deleted fingerprints left out");
})();
