/*
 * vidiplug analyze callback, part 3 of 3: the face-tracking JSON attached to the item.
 *
 * DATA: {scriptVersion, jobId, itemId, tag, uri, dropped: {tooSmall, overLimit}}
 * where `uri` is the face-tracking JSON (seed 003's face-detection document, what
 * `vidiplug analyze --format azure-faces` writes) in the callback location, and `tag` the
 * shape tag the service configuration declares for it (vcs_face_tracks); `dropped` counts
 * the faces the seed's limits left out (logged).
 *
 * VidiCore keeps files of an item as shapes (reference §4.4); the document becomes a new
 * shape by shape import, POST item/{id}/shape?uri=&tag= (a job; the shape exists once it
 * has FINISHED). Re-analysis replaces: once the new shape exists, the item's earlier shapes
 * with the tag are deleted (DELETE item/{id}/shape/{shapeId}, §4.7).
 */
(function () {
  "use strict";
  var lib = vidiplug;
  var itemId = String(DATA.itemId);
  var tag = String(DATA.tag);
  var earlier = lib.shapeIds(itemId, tag);
  var what = "importing the face tracks of item " + itemId + " as a " + tag + " shape";
  var answer = lib.attempt(what, function () {
    return api.path("item").path(itemId).path("shape").queryParam("uri", String(DATA.uri))
      .queryParam("tag", tag).post();
  });
  if (answer && answer.jobId !== undefined) {
    lib.waitForJob(String(answer.jobId), what);
  }
  earlier.forEach(function (shapeId) {
    lib.attempt("deleting the earlier " + tag + " shape " + shapeId + " of item " + itemId, function () {
      return api.path("item").path(itemId).path("shape").path(shapeId).delete();
    });
  });
  var now = lib.shapeIds(itemId, tag);
  logger.log("vidiplug " + DATA.jobId + " (" + DATA.scriptVersion + "): item " + itemId + ": face tracks in " +
             tag + " shape " + now.join(",") + ", " + earlier.length + " earlier replaced; left out by the limits: " +
             DATA.dropped.tooSmall + " too small, " + DATA.dropped.overLimit + " over the per-frame maximum");
  return now.join(",");
})();
