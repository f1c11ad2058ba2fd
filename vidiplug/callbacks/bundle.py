"""Callback bundles: analysis and training results -> data files and CallbackDocument scripts, in upload order.

Callbacks room: pure (results in, bytes out; no I/O beyond reading the packaged scripts); never
imports requests, boto3, botocore or apscheduler. Outside data reaches the JavaScript only as the
one JSON literal json_literal writes; XML is built with lxml's element API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lxml import etree

from vidiplug.callbacks.metadata_json import face_spans
from vidiplug.callbacks.scripts import ScriptName, load_script
from vidiplug.engine.character import series_of
from vidiplug.errors import CallbackError
from vidiplug.names import SAFE_NAME_RULE, is_safe_name
from vidiplug.pipeline.results import AnalysisResult
from vidiplug.render.azure_faces import TRACKS_SHAPE_TAG, build_azure_faces
from vidiplug.render.emotion_fields import PER_FACE
from vidiplug.render.insight_groups import insight_groups
from vidiplug.render.metadata_xml import GROUP_PREFIX, NS, to_xml_text

ANALYZE_UNKNOWNS_FILE = "010-vidiplug-unknowns.xml"
ANALYZE_METADATA_FILE = "020-vidiplug-metadata.xml"
ANALYZE_TRACKS_FILE = "030-vidiplug-tracks.xml"
TRACKS_DATA_FILE = "tracks/face-tracks.json"
ANALYZE_INSIGHTS_FILE = "040-vidiplug-insights.xml"
TRAIN_FILE = "010-vidiplug-train.xml"
RELABEL_FILE = "010-vidiplug-relabel.xml"
FACES_FOLDER = "faces/"
# Job data keys the scripts write (read them back with GET /API/job/{id}?metadata=true).
DELETED_FINGERPRINTS_KEY = "vidiplugDeletedFingerprints"
MISSING_ITEMS_KEY = "vidiplugMissingItems"
RELABELLED_ITEMS_KEY = "vidiplugRelabelledItems"
# The face service declaration has no field for a rejection reason; see build_train_bundle.
DEFAULT_REASON_FIELD = "adu_av_description"
MAX_REASON_CHARS = 1000
XML_TYPE = "application/xml"
JPEG_TYPE = "image/jpeg"
JSON_TYPE = "application/json"

_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")
_ANALYZER_ID = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")  # as render/metadata_xml.py requires
# Inert in XML text and in JavaScript source: markup characters, JS line terminators that JSON
# allows raw, and the code points XML 1.0 cannot hold (json.dumps already escapes C0 controls).
_NOT_INERT = re.compile("[<>&\u2028\u2029\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class CallbackFile:
    """One file of a callback bundle, named relative to the job's folder (``faces/fp.jpg``, ``010-x.xml``).

    ``is_script`` files are CallbackDocuments (names end in ``.xml``, run by VidiCore in
    lexical order; its executor ignores anything else); the others are data the scripts read,
    must not end in ``.xml`` (they would run as scripts) and must be uploaded first. The
    storage room's ``put_bundle`` takes it as a ``BundleFile``.
    """

    name: str
    data: bytes = field(repr=False)
    content_type: str
    is_script: bool = False


def json_literal(value: object) -> str:
    """``value`` as a JSON text that is also an inert JavaScript literal and inert XML text.

    ``json.dumps(value, ensure_ascii=False)``, then ``<``, ``>``, ``&``, U+2028, U+2029, lone
    surrogates and U+FFFE/U+FFFF are written as ``\\uXXXX`` escapes: the text can sit in a
    ``<script>`` element (no markup, no ``]]>``, no ``</script>``) and in JavaScript source
    (no raw line terminators inside strings), and it parses back to the same value. Raises
    CallbackError for what JSON cannot hold (NaN, infinities, non-JSON types).
    """
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise CallbackError(f"callback data cannot be serialised as JSON: {exc}") from exc
    return _NOT_INERT.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def callback_document(name: str, description: str, data: Mapping[str, object], script_text: str) -> bytes:
    """A CallbackDocument (version 2, vidispine namespace) whose script is ``var DATA = {data};`` + ``script_text``.

    ``data`` reaches the script only through json_literal; ``script_text`` must be static
    code (a CallbackScript's text). Returns UTF-8 bytes with an XML declaration. Raises
    CallbackError when ``data`` is not JSON-serialisable.
    """
    root = etree.Element(f"{{{NS}}}CallbackDocument", nsmap={None: NS}, version="2")
    etree.SubElement(root, f"{{{NS}}}name").text = to_xml_text(name)
    etree.SubElement(root, f"{{{NS}}}description").text = to_xml_text(description)
    etree.SubElement(root, f"{{{NS}}}script").text = f"var DATA = {json_literal(dict(data))};\n{script_text}"
    document: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return document


def unknown_title(fingerprint: str, series: str | None = None) -> str:
    """The title of a new unknown face's item: ``Unknown face`` and the fingerprint's first 8 characters
    (an unknown animated character of ``series``: ``Unknown character`` and the series in brackets)."""
    if series is not None:
        return f"Unknown character {fingerprint[:8]} ({series})"
    return f"Unknown face {fingerprint[:8]}"


def build_analyze_bundle(
    *,
    job_id: str,
    item_id: str,
    result: AnalysisResult,
    callback_base_uri: str,
    unknown_collection: str,
    previously_imported: Sequence[str],
    analyzer_id: str = "VidiplugFaceAnalyzer",
    storage_id: str | None = None,
    pending_imports: Sequence[str] = (),
    emotion_mode: str = PER_FACE,
) -> list[CallbackFile]:
    """The files that hand ``result`` of analysing ``item_id`` back to VidiCore, in upload order.

    First ``faces/{fingerprint}.jpg`` for each new unknown person with a crop, then
    ``010-vidiplug-unknowns.xml`` (imports the new unknowns into ``unknown_collection``,
    notices fingerprints of ``previously_imported`` whose item an operator deleted) and
    ``020-vidiplug-metadata.xml`` (replaces the item's ``adu_face_{analyzer_id}`` timespans,
    leaving out deleted fingerprints; each face group with its emotion as ``emotion_mode``
    says, see render/metadata_xml.py), then ``tracks/face-tracks.json`` (seed 003's
    face-detection document, render/azure_faces.py) and ``030-vidiplug-tracks.xml`` (attaches
    it to the item as a ``vcs_face_tracks`` shape by shape import, replacing earlier ones),
    then, when custom models found something, ``040-vidiplug-insights.xml`` (replaces each
    of those models' ``vidiplug_insight_{model}`` groups, render/insight_groups.py).
    ``callback_base_uri`` is the callback location without credentials,
    ``s3://bucket/prefix/``; the scripts import crops from ``{callback_base_uri}{job_id}/faces/...``,
    so the bundle must be uploaded under ``{job_id}/`` there. ``previously_imported``: fingerprints
    of unknowns found again
    whose items VidiCore confirmed once, so a missing one was deleted by an operator.
    ``pending_imports``: fingerprints of unknowns found again whose item was never
    confirmed (an earlier hand-back failed or has not run yet): they are imported like new
    ones, and the script skips any that an item carries already. ``storage_id``: the
    VidiCore storage the face crops are imported to (None = VidiCore's default). Raises
    CallbackError for an unsafe id, fingerprint or base URI, and MetadataError for a
    malformed ``analyzer_id``.

    A result of the character engine (animated characters, issue 16) gets the same files but
    no face tracks (seed 003's document is about human faces; its shape would replace the
    item's face tracks): its groups say ``adu_analysisType`` ``character`` and the series
    (render/metadata_xml.py), and its new unknowns' items are titled ``Unknown character``.
    """
    job = _safe_id(job_id, "job id")
    series = series_of(result.engine)
    folder_uri = _base_uri(callback_base_uri) + f"{job}/"
    if not unknown_collection.strip():
        raise CallbackError("unknown collection name is empty")
    crops: list[CallbackFile] = []
    unknowns: list[dict[str, object]] = []
    new: set[str] = set()
    pending = set(pending_imports)
    for person in result.people:
        if person.known or not (person.is_new or person.fingerprint in pending) or person.fingerprint in new:
            continue
        fingerprint = _safe_id(person.fingerprint, "fingerprint")
        new.add(fingerprint)
        thumbnail_uri: str | None = None
        if person.thumbnail_jpeg:
            crop = CallbackFile(f"{FACES_FOLDER}{fingerprint}.jpg", person.thumbnail_jpeg, JPEG_TYPE, False)
            crops.append(crop)
            thumbnail_uri = folder_uri + crop.name
        unknowns.append({"fingerprint": fingerprint, "thumbnailUri": thumbnail_uri,
                         "title": unknown_title(fingerprint, series)})
    previous = [_safe_id(fp, "fingerprint") for fp in dict.fromkeys(previously_imported) if fp not in new]
    common: dict[str, object] = {"jobId": job, "itemId": _safe_id(item_id, "item id")}
    unknowns_data = {**common, "collection": unknown_collection, "unknowns": unknowns, "previouslyImported": previous,
                     "storageId": _safe_id(storage_id, "storage id") if storage_id else None}
    metadata_data = {
        **common,
        "analyzerId": analyzer_id,
        "groupName": GROUP_PREFIX + analyzer_id,
        "previouslyImported": previous,
        "spans": face_spans(result, analyzer_id=analyzer_id, emotion_mode=emotion_mode),
    }
    tracks = build_azure_faces(result)
    tracks_file = CallbackFile(TRACKS_DATA_FILE, (json.dumps(tracks.document) + "\n").encode("utf-8"), JSON_TYPE)
    tracks_data = {**common, "tag": TRACKS_SHAPE_TAG, "uri": folder_uri + TRACKS_DATA_FILE,
                   "dropped": {"tooSmall": tracks.dropped.too_small, "overLimit": tracks.dropped.over_limit}}
    files = [
        *crops,
        *([tracks_file] if series is None else []),
        _script_file(ANALYZE_UNKNOWNS_FILE, ScriptName.ANALYZE_UNKNOWNS, job, unknowns_data),
        _script_file(ANALYZE_METADATA_FILE, ScriptName.ANALYZE_METADATA, job, metadata_data),
    ]
    if series is None:
        files.append(_script_file(ANALYZE_TRACKS_FILE, ScriptName.ANALYZE_TRACKS, job, tracks_data))
    if result.custom_insights:
        models = insight_groups(result)
        for model in models:
            if not _FIELD_NAME.fullmatch(str(model["groupName"])):
                raise CallbackError(f"model {model['name']!a}: not a usable metadata group name")
        files.append(_script_file(ANALYZE_INSIGHTS_FILE, ScriptName.ANALYZE_INSIGHTS, job,
                                  {**common, "models": models}))
    return files


def build_train_bundle(
    *,
    job_id: str,
    accepted: Sequence[str],
    rejected: Mapping[str, str],
    reason_field: str = DEFAULT_REASON_FIELD,
) -> list[CallbackFile]:
    """The one script that records a training run's outcome on the training items.

    ``accepted`` item ids are marked TRAINED (item and shapes) and ACTIVE (shapes);
    ``rejected`` maps item ids to a one-line reason, written to the item field
    ``reason_field`` while the shapes get ``vcs_face_status=REJECTED``. The face service
    declaration has no field meant for a reason, so the default is ``adu_av_description``
    (declared, string); pass a dedicated field such as ``vcs_face_statusReason`` once the
    service declares one. Reasons lose characters XML cannot hold and are cut to 1000
    characters. Raises CallbackError for an unsafe id, an item both accepted and rejected,
    or a malformed field name.
    """
    job = _safe_id(job_id, "job id")
    if not _FIELD_NAME.fullmatch(reason_field):
        raise CallbackError(f"reason field {reason_field!r}: not a metadata field name")
    both = set(accepted) & set(rejected)
    if both:
        raise CallbackError(f"items both accepted and rejected by training: {', '.join(sorted(both))}")
    data: dict[str, object] = {
        "jobId": job,
        "reasonField": reason_field,
        "accepted": [_safe_id(item, "item id") for item in dict.fromkeys(accepted)],
        "rejected": [
            {"itemId": _safe_id(item, "item id"), "reason": to_xml_text(reason)[:MAX_REASON_CHARS]}
            for item, reason in rejected.items()
        ],
    }
    return [_script_file(TRAIN_FILE, ScriptName.TRAIN_RESULT, job, data)]


def build_relabel_bundle(
    *,
    job_id: str,
    fingerprint: str | None,
    value_id: str | None,
    value: str,
    item_id: str | None,
    item_fields: Mapping[str, str],
    analyzer_id: str = "VidiplugFaceAnalyzer",
    also_analyzers: Sequence[str] = (),
) -> list[CallbackFile]:
    """The script that makes timelines follow a relabelled or merged fingerprint.

    Every ``adu_face_{analyzer_id}`` group on any item whose ``adu_av_analyzedValue``
    subgroup has ``adu_av_valueId`` = ``fingerprint`` is updated in place (by uuid): its
    ``adu_av_valueId`` becomes ``value_id`` and its ``adu_av_value`` becomes ``value`` (a
    person's name, or ``"Unknown"`` for an unnamed identity). Other analyzers' groups are
    never touched (reference §5.6: ``adu_`` structures belong to their analyzer).
    ``fingerprint`` None rewrites no timeline (a relabelled training item, whose vectors
    move at the next training). ``item_id``, when given, gets the generic fields
    ``item_fields`` (field name -> value, e.g. ``vcs_face_value``, ``vcs_face_method``).
    Values lose the characters XML cannot hold. Raises CallbackError for an unsafe id or
    fingerprint, a malformed field name or a malformed ``analyzer_id``.

    ``also_analyzers``: further analyzers whose groups follow too (the character analyzer's,
    issue 16: an identity's fingerprint may show in either), one more script each
    (``011-vidiplug-relabel-{analyzer}.xml``, ...) that rewrites timelines only.
    """
    job = _safe_id(job_id, "job id")
    if (fingerprint is None) != (value_id is None):
        raise CallbackError("a relabel needs both the fingerprint and its new value id, or neither")
    for name in item_fields:
        if not _FIELD_NAME.fullmatch(name):
            raise CallbackError(f"item field {name!r}: not a metadata field name")
    data: dict[str, object] = {
        "jobId": job,
        "groupName": GROUP_PREFIX + _analyzer_id(analyzer_id),
        "fingerprint": _safe_id(fingerprint, "fingerprint") if fingerprint is not None else None,
        "valueId": _safe_id(value_id, "value id") if value_id is not None else None,
        "value": to_xml_text(value),
        "itemId": _safe_id(item_id, "item id") if item_id is not None else None,
        "itemFields": [[name, to_xml_text(text)] for name, text in item_fields.items()],
    }
    files = [_script_file(RELABEL_FILE, ScriptName.RELABEL, job, data)]
    if fingerprint is None:
        return files
    for number, other in enumerate(dict.fromkeys(a for a in also_analyzers if a != analyzer_id), start=11):
        extra = {**data, "groupName": GROUP_PREFIX + _analyzer_id(other), "itemId": None, "itemFields": []}
        files.append(_script_file(f"{number:03d}-vidiplug-relabel-{other}.xml", ScriptName.RELABEL, job, extra))
    return files


def _analyzer_id(analyzer_id: str) -> str:
    if not _ANALYZER_ID.fullmatch(analyzer_id):
        raise CallbackError(f"analyzer id {analyzer_id!r}: must be letters and digits, starting with a letter")
    return analyzer_id


def _script_file(file_name: str, script_name: ScriptName, job_id: str, data: dict[str, object]) -> CallbackFile:
    script = load_script(script_name)
    description = f"vidiplug {script.name.value} {script.version} for job {job_id}"
    document = callback_document(f"vidiplug {script.name.value}", description,
                                 {"scriptVersion": script.version, **data}, script.text)
    return CallbackFile(file_name, document, XML_TYPE, True)


def _safe_id(value: str, what: str) -> str:
    # Ids and fingerprints become S3 keys and API path segments: no "/", "..", quotes or spaces.
    if not is_safe_name(value):
        raise CallbackError(f"{what} {value!a}: {SAFE_NAME_RULE} (at most 200)")
    return value


def _base_uri(uri: str) -> str:
    """``uri`` with a trailing slash; CallbackError unless it is ``s3://bucket[/prefix]`` without credentials."""
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.hostname or "@" in parts.netloc or parts.query or parts.fragment:
        # Never echo the URI: it may carry a secret.
        raise CallbackError("callback base URI must be s3://bucket/prefix/ without credentials, query or fragment")
    return uri if uri.endswith("/") else uri + "/"
