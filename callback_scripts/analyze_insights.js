/*
 * vidiplug analyze callback, part 3: custom insights ("bring your own model") as timed metadata.
 *
 * DATA: {scriptVersion, jobId, itemId,
 *        models: [{name, groupName, spans: [{start, end, groups: [group]}]}]}
 * where each `group` is one DATA.models[i].groupName group in MetadataDocument JSON form.
 *
 * Re-running a model replaces its own insights and nothing else: every earlier group named
 * that model's groupName is removed (by uuid where VidiCore shows one, else by name within
 * its timespan), then the model's new timespans are written. Models not in DATA (not run,
 * or failed) keep what they wrote before; face groups are never touched.
 */
(function () {
  "use strict";
  var lib = vidiplug;
  var itemId = String(DATA.itemId);

  var current = lib.attempt("reading the metadata of item " + itemId, function () {
    return api.path("item").path(itemId).path("metadata").get();
  });
  var existing = lib.timespansOf(current);

  lib.asList(DATA.models).forEach(function (model) {
    var groupName = String(model.groupName);
    var removals = [];
    existing.forEach(function (span) {
      var ours = lib.asList(span.group).filter(function (group) { return group.name === groupName; });
      if (ours.length === 0) { return; }
      var withUuid = ours.filter(function (group) { return group.uuid !== undefined && group.uuid !== null; });
      var marks = withUuid.length === ours.length
        ? ours.map(function (group) { return { name: groupName, uuid: String(group.uuid), mode: "remove" }; })
        : [{ name: groupName, mode: "remove" }];
      removals.push({ start: span.start, end: span.end, group: marks });
    });
    if (removals.length > 0) {
      lib.putItemMetadata(itemId, { timespan: removals },
                          "removing " + removals.length + " earlier " + groupName + " timespans");
    }
    var timespans = lib.asList(model.spans).map(function (span) {
      return { start: span.start, end: span.end, group: lib.asList(span.groups) };
    });
    if (timespans.length > 0) {
      lib.putItemMetadata(itemId, { timespan: timespans },
                          "writing " + timespans.length + " " + groupName + " timespans");
    }
    logger.log("vidiplug " + DATA.jobId + " (" + DATA.scriptVersion + "): item " + itemId + ": model " +
               model.name + ": " + removals.length + " earlier timespans replaced by " + timespans.length);
  });
})();
