/*
 * vidiplug training callback: mark what the model learned, and why the rest was refused.
 *
 * DATA: {scriptVersion, jobId, reasonField,
 *        accepted: [itemId], rejected: [{itemId, reason}]}
 *
 * - Accepted: item vcs_face_method=TRAINED (and an earlier rejection reason in the item
 *   field DATA.reasonField is removed); every shape of the item gets vcs_face_method=TRAINED
 *   and vcs_face_status=ACTIVE.
 * - Rejected: the reason goes into the item field DATA.reasonField; every shape gets
 *   vcs_face_status=REJECTED. vcs_face_method is left as it was.
 * - An item deleted while the model trained is skipped and listed as vidiplugMissingItems
 *   (comma-separated; empty when none): logged, returned as the script's value, and stored
 *   as job data where a "job" object exists.
 */
(function () {
  "use strict";
  var lib = vidiplug;
  var reasonField = String(DATA.reasonField);
  var missing = [];

  /* The item's reason field values, or null when the item no longer exists. */
  function reasonValues(itemId) {
    var answer;
    try {
      answer = api.path("item").path(itemId).queryParam("content", "metadata")
        .queryParam("field", reasonField).get();
    } catch (error) {  // a failed call throws; a 404 means the item was deleted meanwhile
      if (lib.isNotFound(error)) {
        return null;
      }
      throw new Error("reading item " + itemId + " failed: " + lib.describe(error));
    }
    return lib.metadataValues(answer, reasonField);
  }

  function markAccepted(itemId) {
    var reasons = reasonValues(itemId);
    if (reasons === null) {
      missing.push(itemId);
      return;
    }
    var document = lib.genericMetadata([["vcs_face_method", "TRAINED"]]);
    if (reasons.length > 0) {
      document.timespan[0].field.push({ name: reasonField, mode: "remove" });
    }
    lib.putItemMetadata(itemId, document, "marking the item TRAINED");
    lib.shapeIds(itemId, null).forEach(function (shapeId) {
      lib.setShapeValue(itemId, shapeId, "vcs_face_method", "TRAINED");
      lib.setShapeValue(itemId, shapeId, "vcs_face_status", "ACTIVE");
    });
  }

  function markRejected(itemId, reason) {
    if (reasonValues(itemId) === null) {
      missing.push(itemId);
      return;
    }
    lib.putItemMetadata(itemId, lib.genericMetadata([[reasonField, reason]]),
                        "recording why training refused the item");
    lib.shapeIds(itemId, null).forEach(function (shapeId) {
      lib.setShapeValue(itemId, shapeId, "vcs_face_status", "REJECTED");
    });
  }

  var accepted = lib.asList(DATA.accepted);
  var rejected = lib.asList(DATA.rejected);
  accepted.forEach(function (itemId) { markAccepted(String(itemId)); });
  rejected.forEach(function (entry) { markRejected(String(entry.itemId), String(entry.reason)); });
  var recorded = lib.record(DATA.jobId, "vidiplugMissingItems", missing.join(","));
  logger.log("vidiplug " + DATA.jobId + " (" + DATA.scriptVersion + "): " + accepted.length +
              " items TRAINED, " + rejected.length + " REJECTED, " + missing.length +
              " no longer exist");
  return recorded;  // the script's value
})();
