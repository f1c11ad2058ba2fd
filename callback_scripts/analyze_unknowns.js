/*
 * vidiplug analyze callback, part 1 of 2: items for new unknown faces.
 *
 * DATA: {scriptVersion, jobId, itemId, collection, storageId (or null: VidiCore's default),
 *        unknowns: [{fingerprint, thumbnailUri (s3:// URI or null), title}],
 *        previouslyImported: [fingerprint]}
 *
 * - A new unknown whose fingerprint an item already carries (vcs_face_externalId) is
 *   skipped, so a re-run imports nothing twice. Otherwise its face crop is imported as a new
 *   item (tag and original vcs_face_thumbnail; item vcs_face_method=INDEXED,
 *   vcs_face_externalId, title). Once its import job has FINISHED (imports are asynchronous)
 *   it is added to the collection named DATA.collection (found by exact name, created on
 *   first need), and its shape gets vcs_face_method=INDEXED and vcs_face_status=ACTIVE. An
 *   unknown without a crop becomes a placeholder item with the same item metadata.
 * - DATA.previouslyImported holds only fingerprints whose item the service has seen in
 *   VidiCore; one that no item carries any more was deleted by an operator: it is not
 *   re-imported, and it is recorded as vidiplugDeletedFingerprints (comma-separated; empty
 *   when none): logged, returned as the script's value, and stored as job data where a "job"
 *   object exists (VidiCore documents none for callback scripts; part 2 then looks again). A fingerprint whose item
 *   was never confirmed (an earlier hand-back failed) comes in DATA.unknowns instead, so it
 *   is imported now: a face is never hidden because its first import failed.
 */
(function () {
  "use strict";
  var lib = vidiplug;
  var unknowns = lib.asList(DATA.unknowns);
  var previous = lib.asList(DATA.previouslyImported);
  var collectionId = null;

  function findCollection(name) {
    var found = lib.searchAll("searching for collection " + JSON.stringify(name), "collection",
                              { text: [{ value: name }] }, "collection", []);
    var exact = found.filter(function (collection) { return collection.name === name; });
    return exact.length > 0 ? String(exact[0].id) : null;
  }

  function ensureCollection() {
    if (collectionId === null) {
      collectionId = findCollection(DATA.collection);
    }
    if (collectionId === null) {
      var created = lib.attempt("creating collection " + JSON.stringify(DATA.collection), function () {
        return api.path("collection").queryParam("name", DATA.collection).post();
      });
      collectionId = String(created.id);
      logger.log("vidiplug " + DATA.jobId + ": created collection " + collectionId);
    }
    return collectionId;
  }

  /* The new item's id: from a placeholder's ItemDocument, or an import JobDocument's data. */
  function importedItemId(answer, what) {
    if (answer && answer.jobId === undefined && answer.id !== undefined) {
      return String(answer.id);
    }
    var ids = lib.asList(answer ? answer.data : null).filter(function (entry) {
      return entry.key === "itemId" || entry.key === "item";
    });
    if (ids.length === 0) {
      throw new Error(what + " returned no itemId");
    }
    return String(ids[0].value);
  }

  function importUnknown(unknown) {
    var fingerprint = String(unknown.fingerprint);
    var metadata = lib.genericMetadata([["vcs_face_method", "INDEXED"],
                                        ["vcs_face_externalId", fingerprint],
                                        ["title", unknown.title]]);
    var what;
    var answer;
    if (unknown.thumbnailUri) {
      what = "importing the face crop of unknown " + fingerprint;
      answer = lib.attempt(what, function () {
        // "original" must be one of the "tag" values (VidiCore's import parameters).
        var request = api.path("import").queryParam("uri", unknown.thumbnailUri)
          .queryParam("tag", "vcs_face_thumbnail").queryParam("original", "vcs_face_thumbnail");
        if (DATA.storageId) {
          request = request.queryParam("storageId", String(DATA.storageId));
        }
        return request.input(metadata).post();
      });
    } else {
      what = "creating a placeholder item for unknown " + fingerprint + " (no face crop)";
      answer = lib.attempt(what, function () {
        return api.path("import").path("placeholder").input(metadata).post();
      });
    }
    var itemId = importedItemId(answer, what);
    if (answer && answer.jobId !== undefined) {
      lib.waitForJob(String(answer.jobId), what);  // the shape exists once the import job has FINISHED
    }
    var target = ensureCollection();
    lib.attempt("adding item " + itemId + " to collection " + target, function () {
      return api.path("collection").path(target).path(itemId).queryParam("type", "item").put();
    });
    lib.shapeIds(itemId, "vcs_face_thumbnail").forEach(function (shapeId) {
      lib.setShapeValue(itemId, shapeId, "vcs_face_method", "INDEXED");
      lib.setShapeValue(itemId, shapeId, "vcs_face_status", "ACTIVE");
    });
    return itemId;
  }

  var newFingerprints = unknowns.map(function (unknown) { return String(unknown.fingerprint); });
  var owners = lib.itemsByExternalId(newFingerprints.concat(previous));
  var isNew = lib.toSet(newFingerprints);
  var imported = [];
  var skipped = 0;
  unknowns.forEach(function (unknown) {
    if (owners[String(unknown.fingerprint)] !== undefined) {
      skipped += 1;
      return;
    }
    imported.push(importUnknown(unknown));
  });
  var deleted = previous.filter(function (fingerprint) {
    return owners[fingerprint] === undefined && isNew[fingerprint] !== true;
  });
  var recorded = lib.record(DATA.jobId, lib.DELETED_FINGERPRINTS_KEY, deleted.join(","));
  logger.log("vidiplug " + DATA.jobId + " (" + DATA.scriptVersion + "): imported " +
              imported.length + " unknown faces [" + imported.join(",") + "], " + skipped +
              " already had items, " + deleted.length + " were deleted by an operator");
  return recorded;  // the script's value
})();
