/*
 * vidiplug relabel/merge callback: a fingerprint got a new name or was merged into another
 * identity; the timelines that show it follow.
 *
 * DATA: {scriptVersion, jobId, groupName,
 *        fingerprint (the adu_av_valueId to rewrite, or null: only the item fields change),
 *        valueId, value (what the matching faces show from now on),
 *        itemId (the relabelled or merged item, or null), itemFields: [[name, value]]}
 *
 * - The item DATA.itemId gets DATA.itemFields (e.g. vcs_face_value, vcs_face_method=MERGED);
 *   an item deleted meanwhile is skipped.
 * - Every item showing the fingerprint (search on adu_av_valueId, then an exact comparison)
 *   has each DATA.groupName group whose adu_av_analyzedValue subgroup carries
 *   adu_av_valueId = DATA.fingerprint updated in place, by the uuids of the group and the
 *   subgroup: adu_av_valueId becomes DATA.valueId and adu_av_value becomes DATA.value.
 *   Nothing else changes: other faces, other analyzers' groups, confidences, boxes, times.
 * - The ids of the rewritten items are recorded as vidiplugRelabelledItems (comma-separated;
 *   empty when none): logged, returned as the script's value, and stored as job data where a
 *   "job" object exists.
 */
(function () {
  "use strict";
  var lib = vidiplug;
  var groupName = String(DATA.groupName);
  var valueGroup = "adu_av_analyzedValue";

  /* The value texts of field `name` directly in `container` (not in its subgroups). */
  function ownValues(container, name) {
    var found = [];
    lib.asList(container.field).forEach(function (field) {
      if (field.name === name) {
        lib.asList(field.value).forEach(function (value) {
          found.push(String(value !== null && typeof value === "object" ? value.value : value));
        });
      }
    });
    return found;
  }

  function itemExists(itemId) {
    try {
      api.path("item").path(itemId).get();
    } catch (error) {  // a failed call throws; a 404 means the item was deleted meanwhile
      if (lib.isNotFound(error)) {
        return false;
      }
      throw new Error("reading item " + itemId + " failed: " + lib.describe(error));
    }
    return true;
  }

  function updateItemFields() {
    var pairs = lib.asList(DATA.itemFields);
    if (DATA.itemId === null || DATA.itemId === undefined || pairs.length === 0) {
      return false;
    }
    var itemId = String(DATA.itemId);
    if (!itemExists(itemId)) {
      logger.log("vidiplug " + DATA.jobId + ": item " + itemId + " no longer exists; its fields stay unset");
      return false;
    }
    lib.putItemMetadata(itemId, lib.genericMetadata(pairs), "setting " + pairs.length + " fields");
    return true;
  }

  /* Updates (by uuid) for the groups of one timespan that show the fingerprint. */
  function rewrittenGroups(span, fingerprint) {
    var groups = [];
    lib.asList(span.group).forEach(function (group) {
      if (group.name !== groupName || !group.uuid) { return; }
      var values = lib.asList(group.group).filter(function (value) {
        return value.name === valueGroup && value.uuid && ownValues(value, "adu_av_valueId").indexOf(fingerprint) >= 0;
      });
      if (values.length === 0) { return; }
      groups.push({ uuid: group.uuid, name: groupName, group: values.map(function (value) {
        return { uuid: value.uuid, name: valueGroup, field: [
          { name: "adu_av_valueId", value: [{ value: String(DATA.valueId) }] },
          { name: "adu_av_value", value: [{ value: String(DATA.value) }] }
        ] };
      }) });
    });
    return groups;
  }

  function rewriteItem(itemId, fingerprint) {
    var current = lib.attempt("reading the metadata of item " + itemId, function () {
      return api.path("item").path(itemId).path("metadata").get();
    });
    var timespans = [];
    var faces = 0;
    lib.timespansOf(current).forEach(function (span) {
      var groups = rewrittenGroups(span, fingerprint);
      if (groups.length > 0) {
        groups.forEach(function (group) { faces += group.group.length; });
        timespans.push({ start: span.start, end: span.end, group: groups });
      }
    });
    if (timespans.length > 0) {
      lib.putItemMetadata(itemId, { timespan: timespans },
                          "showing " + faces + " faces of " + fingerprint + " under their new name");
    }
    return faces;
  }

  function rewriteTimelines() {
    if (DATA.fingerprint === null || DATA.fingerprint === undefined) {
      return { items: [], faces: 0 };
    }
    var fingerprint = String(DATA.fingerprint);
    var search = { field: [{ name: "adu_av_valueId", value: [{ value: fingerprint }] }] };
    var hits = lib.searchAll("searching items showing " + fingerprint, "item", search, "item", []);
    var seen = Object.create(null);
    var items = [];
    var faces = 0;
    hits.forEach(function (hit) {
      var itemId = String(hit.id);
      if (seen[itemId] === true) { return; }
      seen[itemId] = true;
      var rewritten = rewriteItem(itemId, fingerprint);
      if (rewritten > 0) {
        items.push(itemId);
        faces += rewritten;
      }
    });
    return { items: items, faces: faces };
  }

  var updated = updateItemFields();
  var result = rewriteTimelines();
  var recorded = lib.record(DATA.jobId, "vidiplugRelabelledItems", result.items.join(","));
  logger.log("vidiplug " + DATA.jobId + " (" + DATA.scriptVersion + "): " + result.faces + " faces on " +
              result.items.length + " items now show " + DATA.valueId +
              (updated ? "; item " + DATA.itemId + " updated" : ""));
  return recorded;  // the script's value
})();
