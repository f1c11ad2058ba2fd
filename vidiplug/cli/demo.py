"""``vidiplug demo``: seed 002's face workflow against a VidiCore on loopback, printed as an operator sees it.

Starts moto's S3 server and mock_vidicore (a real HTTP server with a real JavaScript
callback executor) on free loopback ports, then the service itself, and drives them only
through VidiCore's REST API, as an operator or Vidispine's UI would. Needs no network.
Part of the CLI room: prints.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from mock_vidicore.moto_s3 import local_s3
from vidiplug.cli.commands import resolve_media, settings_from
from vidiplug.errors import DemoError
from vidiplug.media.probe import IMAGE_SUFFIXES
from vidiplug.pipeline.insights import format_time
from vidiplug.render.insight_groups import insight_group_name
from vidiplug.render.timecode import parse_timecode
from vidiplug.service.declaration import (
    MESSAGE_FIELD,
    PARAMETER_FIELD,
    RUN_FIELD,
    STATUS_FIELD,
    TRAIN_REQUEST_FIELD,
)
from vidiplug.settings import Settings
from vidiplug.vidicore.client import VidiCoreClient
from vidiplug.vidicore.documents import Job, MetadataTimespans, as_list, generic_fields, text_of

JOB_TIMEOUT_S = 600.0
RENAME_TIMEOUT_S = 60.0
DEMO_USER = ("admin", "admin")
DEMO_MODEL = "shot-type"  # the example custom-insight model shipped with vidiplug (README "Bring your own model")
SAMPLE_PERSON = "Eileen Collins"  # the astronaut in scikit-image's public-domain NASA portrait
T = TypeVar("T")


@dataclass(frozen=True)
class FaceSpan:
    """One face on an item's timeline, as the operator's UI shows it."""

    start_s: float
    end_s: float
    name: str
    fingerprint: str
    confidence: float | None


def face_spans(spans: MetadataTimespans) -> list[FaceSpan]:
    """The ``adu_face_*`` values of an item's metadata (JSON timespans), by start time."""
    found: list[FaceSpan] = []
    for span in spans:
        start, end = span.get("start"), span.get("end")
        if not isinstance(start, str) or not isinstance(end, str) or start == "-INF":
            continue
        for group in as_list(span.get("group")):
            if not isinstance(group, dict) or not str(text_of(group.get("name")) or "").startswith("adu_face_"):
                continue
            for value in as_list(group.get("group")):
                fields = _fields(value) if isinstance(value, dict) else {}
                if "adu_av_valueId" in fields:
                    confidence = fields.get("adu_av_confidence")
                    found.append(FaceSpan(float(parse_timecode(start)), float(parse_timecode(end)),
                                          fields.get("adu_av_value", ""), fields["adu_av_valueId"],
                                          float(confidence) if confidence else None))
    return sorted(found, key=lambda f: (f.start_s, f.name))


def _fields(node: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for entry in as_list(node.get("field")):
        name = text_of(entry.get("name")) if isinstance(entry, dict) else None
        texts = [text_of(v) for v in as_list(entry.get("value"))] if name else []
        if name and texts and texts[0] is not None:
            values[name] = texts[0]
    return values


def wait_until(condition: Callable[[], T | None], timeout_s: float, what: str) -> T:
    """``condition()`` once it returns something other than None; DemoError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise DemoError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.1)


@contextmanager
def local_vidicore(s3_endpoint: str, folder: Path, bridge: bool) -> Iterator[str]:
    """mock_vidicore in a child process on a free loopback port; yields its base URL.

    Without ``bridge`` it is as strict as VidiCore: the bridge's invented endpoints answer 404.
    """
    from mock_vidicore.launch import LaunchError, launch_mock

    try:
        running = launch_mock(folder, *(["--bridge"] if bridge else []), "--s3-endpoint", s3_endpoint,
                              "--poll-interval-s", "0.1", "--data-dir", str(folder / "data"),
                              user=DEMO_USER[0], password=DEMO_USER[1])
    except LaunchError as exc:
        raise DemoError(str(exc)) from None
    try:
        yield running.url
    finally:
        running.stop()


def demo_settings(args: argparse.Namespace, vidicore_url: str, s3_endpoint: str, bucket: str, work: Path,
                  mode: str = "direct") -> Settings:
    """Service settings for the demo: loopback VidiCore and S3, a store in the work folder, ``mode``."""
    overrides: dict[str, object] = {
        "vidicore.mode": mode, "vidicore.url": vidicore_url,
        "vidicore.user": DEMO_USER[0], "vidicore.password": DEMO_USER[1],
        "vidicore.resource_name": "vidiplug-demo",
        "callback.uri": f"s3://demo:demo@{bucket}/callbacks/", "callback.endpoint_url": s3_endpoint,
        "store.url": str(work / "identities.sqlite"), "store.path": None, "service.poll_interval_s": 0.3,
        "service.unknowns_watch_interval_s": 0.3,
        "service.autotrain": False, "service.work_dir": str(work / "jobs"),
        "service.status_port": 0,  # any free port: a demo never collides with a service on this host
        "models.run": (DEMO_MODEL,),  # the shipped example model runs on every analysis
    }
    (work / "jobs").mkdir(parents=True, exist_ok=True)
    # The engine and analysis settings follow --config, the environment and the flags, as for
    # every command; where VidiCore, S3 and the store are is the demo's own.
    return settings_from(args, overrides)


def gallery_images(gallery: Path | None, work: Path) -> list[tuple[str, Path]]:
    """(person name, photo) pairs from ``gallery/Name/*.jpg``, or the sample portrait as one person."""
    if gallery is None:
        return [(SAMPLE_PERSON, resolve_media("sample:astronaut"))]
    if not gallery.is_dir():
        raise DemoError(f"{gallery}: not a folder with one sub-folder of photos per person")
    pairs = [(folder.name, photo) for folder in sorted(gallery.iterdir()) if folder.is_dir()
             for photo in sorted(folder.iterdir()) if photo.suffix.lower() in IMAGE_SUFFIXES]
    if not pairs:
        raise DemoError(f"{gallery}: no photos found in its sub-folders")
    return pairs


def say(text: str = "") -> None:
    """One line of the demo's narration on stdout."""
    print(text, flush=True)


def _generic(*pairs: tuple[str, str]) -> dict[str, Any]:
    """A MetadataDocument setting each (field, value) on the whole item or collection."""
    return {"timespan": [{"start": "-INF", "end": "+INF",
                          "field": [{"name": name, "value": [{"value": value}]} for name, value in pairs]}]}


def _shown(*pairs: tuple[str, str]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in pairs)


class Operator:
    """The operator's side of the demo: REST calls an operator (or Vidispine's UI) makes.

    The story (``walk_through``) is the same in both modes; how work is asked for is not:
    ``analyse`` and ``train`` are each mode's, the rest is shared.
    """

    def __init__(self, client: VidiCoreClient) -> None:
        self.client = client

    def analyse(self, item_id: str) -> str:
        """Ask for ``item_id`` to be analysed and wait for the outcome; what the operator sees of it."""
        raise NotImplementedError

    def train(self, collection_id: str) -> None:
        """Ask for training on ``collection_id`` and wait until it has run."""
        raise NotImplementedError

    def put_fields(self, item_id: str, *pairs: tuple[str, str]) -> None:
        say(f"$ PUT /API/item/{item_id}/metadata   ({_shown(*pairs)})")
        self.client.put_item_metadata(item_id, _generic(*pairs))

    def rename(self, item_id: str, name: str) -> None:
        self.put_fields(item_id, ("vcs_face_value", name))

    def delete(self, item_id: str) -> None:
        say(f"$ DELETE /API/item/{item_id}")
        self.client.delete_item(item_id)

    def timeline(self, item_id: str) -> list[FaceSpan]:
        spans = face_spans(self.client.get_item_metadata(item_id))
        say(f"$ GET /API/item/{item_id}?content=metadata   ({len(spans)} face timespans)")
        for span in spans:
            confidence = f"  confidence {span.confidence:.2f}" if span.confidence is not None else ""
            say(f"  {span.start_s:7.2f}-{span.end_s:7.2f} s  {span.name:<24} {span.fingerprint}{confidence}")
        return spans

    def insights(self, item_id: str, model: str) -> list[tuple[str, str, str]]:
        """``model``'s custom insights on the item's timeline: (start, end as h:mm:ss.ff, type), printed."""
        group = insight_group_name(model)
        found: list[tuple[float, str, str, str]] = []
        for span in self.client.get_item_metadata(item_id):
            start, end = span.get("start"), span.get("end")
            if not isinstance(start, str) or not isinstance(end, str) or start == "-INF":
                continue
            for entry in as_list(span.get("group")):
                if isinstance(entry, dict) and text_of(entry.get("name")) == group:
                    start_s, end_s = float(parse_timecode(start)), float(parse_timecode(end))
                    found.append((start_s, format_time(start_s), format_time(end_s),
                                  _fields(entry).get("vidiplug_insightType", "")))
        found.sort()
        say(f"$ GET /API/item/{item_id}?content=metadata   ({len(found)} {group} timespans)")
        for _, start_text, end_text, kind in found:
            say(f"  {model}: {kind:<12} {start_text} to {end_text}")
        return [(a, b, c) for _, a, b, c in found]

    def unknown_items(self, collection: str) -> dict[str, str]:
        """fingerprint -> item id of the items in the unknown collection."""
        collection_id = self.client.find_collection(collection)
        if collection_id is None:
            return {}
        found: dict[str, str] = {}
        for item_id in self.client.collection_items(collection_id):
            fingerprint = self.client.get_item(item_id, ("metadata",)).field("vcs_face_externalId")
            if fingerprint:
                found[fingerprint] = item_id
        return found


class BridgeOperator(Operator):
    """Bridge mode: jobs started on the service's VidiNet resource, naming its callback resource."""

    def __init__(self, client: VidiCoreClient, resource_id: str, callback_id: str) -> None:
        super().__init__(client)
        self.resource_id, self.callback_id = resource_id, callback_id

    def wait_job(self, job: Job) -> str:
        """The job's end as the operator sees it; DemoError unless it FINISHED."""
        ended = wait_until(lambda: (lambda j: j if j.state.is_terminal else None)(self.client.get_job(job.id)),
                           JOB_TIMEOUT_S, f"job {job.id}")
        if ended.state.value not in ("FINISHED", "FINISHED_WARNING"):
            raise DemoError(f"job {job.id} ended {ended.state.value}: {ended.failure_reason or 'no reason given'}")
        outcome = f"job {job.id}: {ended.state.value}"
        say(f"  {outcome}")
        return outcome

    def analyse(self, item_id: str) -> str:
        say(f"$ POST /API/item/{item_id}/analyze?resourceId={self.resource_id}&callbackId={self.callback_id}")
        return self.wait_job(self.client.start_analyze(item_id, self.resource_id, self.callback_id, {}))

    def train(self, collection_id: str) -> None:
        say(f"$ POST /API/collection/{collection_id}/train?resourceId={self.resource_id}&callbackId={self.callback_id}")
        self.wait_job(self.client.start_train(collection_id, self.resource_id, self.callback_id, {}))


class DirectOperator(Operator):
    """Direct mode: only VidiCore's documented API; requests are metadata and queue membership."""

    def __init__(self, client: VidiCoreClient, queue_id: str) -> None:
        super().__init__(client)
        self.queue_id = queue_id

    def analyse(self, item_id: str) -> str:
        self.put_fields(item_id, (PARAMETER_FIELD, ""), (STATUS_FIELD, "QUEUED"))
        say(f"$ PUT /API/collection/{self.queue_id}/{item_id}?type=item   (into the analysis queue)")
        self.client.add_to_collection(self.queue_id, item_id)

        def outcome() -> dict[str, tuple[str, ...]] | None:
            if item_id in self.client.collection_items(self.queue_id):
                return None
            fields = generic_fields(self.client.get_item_metadata(item_id))
            return fields if _first(fields, STATUS_FIELD) in ("FINISHED", "FAILED") else None

        return self._outcome(f"item {item_id}", wait_until(outcome, JOB_TIMEOUT_S, f"item {item_id} to be analysed"))

    def train(self, collection_id: str) -> None:
        pairs = ((TRAIN_REQUEST_FIELD, "true"), (PARAMETER_FIELD, ""), (STATUS_FIELD, "QUEUED"))
        say(f"$ PUT /API/collection/{collection_id}/metadata   ({_shown(*pairs)})")
        self.client.put_collection_metadata(collection_id, _generic(*pairs))
        fields = wait_until(lambda: (lambda f: f if _first(f, TRAIN_REQUEST_FIELD) == "false" else None)(
            generic_fields(self.client.collection_metadata(collection_id))), JOB_TIMEOUT_S, "training to run")
        self._outcome(f"collection {collection_id}", fields)

    @staticmethod
    def _outcome(what: str, fields: dict[str, tuple[str, ...]]) -> str:
        """What the operator reads in the status fields; DemoError unless FINISHED."""
        status, message = _first(fields, STATUS_FIELD), _first(fields, MESSAGE_FIELD)
        outcome = (f"{what}: {STATUS_FIELD}={status}, {MESSAGE_FIELD}={message!r}, "
                   f"{RUN_FIELD}={_first(fields, RUN_FIELD)}")
        say(f"$ GET /API/{what.replace(' ', '/')}/metadata   ({outcome})")
        if status != "FINISHED":
            raise DemoError(f"{what} ended {status}: {message or 'no reason given'}")
        return outcome


def _first(fields: dict[str, tuple[str, ...]], name: str) -> str:
    return (fields.get(name) or ("",))[0]


def run_demo(args: argparse.Namespace) -> int:
    """``vidiplug demo``: start everything on loopback and walk through the workflow (``--mode``)."""
    import boto3

    from vidiplug.service.app import ServiceApp

    # moto's werkzeug server logs every request at INFO; the operator's narration is the output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    mode = getattr(args, "mode", "direct")
    media = resolve_media(args.media)
    if not media.is_file():
        raise DemoError(f"{media}: no such media file")
    with ExitStack() as stack:
        work = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vidiplug-demo-")))
        work.mkdir(parents=True, exist_ok=True)
        s3_endpoint = stack.enter_context(local_s3())
        bucket = "vidiplug-demo-callbacks"
        boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="demo",
                     aws_secret_access_key="demo").create_bucket(Bucket=bucket)
        url = stack.enter_context(local_vidicore(s3_endpoint, work / "vidicore", bridge=mode == "bridge"))
        settings = demo_settings(args, url, s3_endpoint, bucket, work, mode)
        say(f"mock VidiCore at {url} ({'with' if mode == 'bridge' else 'without'} --bridge), S3 at {s3_endpoint}, "
            f"work folder {work}")
        app = ServiceApp(settings, instance="demo")
        stack.callback(app.stop)
        registration = app.start()
        client = stack.enter_context(VidiCoreClient(url, *DEMO_USER))
        collections = (f"collections {settings.service.training_collection} = {registration.training_collection_id}"
                       f" and {settings.analysis.unknown_collection_name} = {registration.unknown_collection_id}")
        op: Operator
        if mode == "bridge":
            if registration.resource_id is None or registration.callback_id is None:
                raise DemoError("bridge mode registered no VidiNet resource")
            say(f"service registered as VidiNet resource {registration.resource_id}, callback resource "
                f"{registration.callback_id}; configuration applied (vcs_face_* fields, face ADU groups, "
                f"shape tag vcs_face_thumbnail, merge/relabel job types, {collections})")
            op = BridgeOperator(client, registration.resource_id, registration.callback_id)
        else:
            if registration.queue_collection_id is None:
                raise DemoError("direct mode made no analysis queue")
            say(f"service in direct mode: no resource registered; fields (vcs_face_*, vidiplug_*), face ADU "
                f"groups and shape tag vcs_face_thumbnail defined, {collections}, analysis queue "
                f"{settings.service.analysis_queue} = {registration.queue_collection_id}")
            op = DirectOperator(client, registration.queue_collection_id)
        walk_through(op, settings, registration.training_collection_id, media, gallery_images(args.gallery, work),
                     work)
    return 0


def walk_through(op: Operator, settings: Settings, training_id: str, media: Path,
                 photos: list[tuple[str, Path]], work: Path) -> None:
    """Seed 002 step by step: analyse, name an unknown, delete one, train, analyse again."""
    client, unknown_collection = op.client, settings.analysis.unknown_collection_name
    say(f"\n1. Upload {media.name} and analyse it before any training: every face is an unknown fingerprint")
    item_id = client.import_placeholder_with_file(media)
    op.analyse(item_id)
    op.timeline(item_id)
    unknowns = op.unknown_items(unknown_collection)
    say(f"  collection {unknown_collection}: {len(unknowns)} unknown face items "
        + ", ".join(f"{i} ({fp[:8]})" for fp, i in unknowns.items()))
    if not unknowns:
        raise DemoError(f"no face found in {media.name}: try other media with --media")

    fingerprints = list(unknowns)
    named_fp = fingerprints[0]
    new_name = photos[0][0] if len(photos) == 1 or len(fingerprints) == 1 else "Named by the operator"
    say(f"\n2. The archivist names unknown item {unknowns[named_fp]}: vcs_face_value = {new_name!r}")
    op.rename(unknowns[named_fp], new_name)
    wait_until(lambda: True if any(s.fingerprint == named_fp and s.name == new_name
                                   for s in face_spans(client.get_item_metadata(item_id))) else None,
               RENAME_TIMEOUT_S, f"the timeline of {item_id} to show {new_name!r}")
    op.timeline(item_id)

    if len(fingerprints) > 1:
        gone = fingerprints[1]
        say(f"\n3. The archivist deletes unknown item {unknowns[gone]} ({gone[:8]}): it must never come back")
        op.delete(unknowns[gone])
        op.analyse(item_id)
        again = op.unknown_items(unknown_collection)
        say(f"  re-analysed: fingerprint {gone[:8]} " + ("was RE-IMPORTED (bug)" if gone in again else
                                                          "was not re-imported"))
        if gone in again:
            raise DemoError(f"deleted fingerprint {gone} was imported again")
    else:
        say("\n3. (only one unknown face in this media, so there is none to delete; pass --media with more people)")

    say(f"\n4. Upload training photos into {settings.service.training_collection} and train")
    photo_items: dict[str, tuple[str, str]] = {}
    for name, photo in photos:
        photo_id = client.import_placeholder_with_file(photo, _generic(("vcs_face_isTrainingMaterial", "true"),
                                                                       ("vcs_face_value", name)))
        say(f"$ PUT /API/collection/{training_id}/{photo_id}?type=item   ({photo.name}: vcs_face_value={name!r})")
        client.add_to_collection(training_id, photo_id)
        photo_items[photo_id] = (name, photo.name)
    op.train(training_id)
    for photo_id, (name, file_name) in photo_items.items():
        item = client.get_item(photo_id, ("metadata",))
        reason = item.field("adu_av_description")
        say(f"  {photo_id} {name:<24} {file_name:<28} vcs_face_method={item.field('vcs_face_method') or '-'}"
            + (f"  rejected: {reason}" if reason else ""))

    say(f"\n5. Analyse {media.name} again: trained people are named on the timeline")
    op.analyse(item_id)
    spans = op.timeline(item_id)
    shots = op.insights(item_id, DEMO_MODEL)
    if not shots:
        raise DemoError(f"the {DEMO_MODEL} model wrote no insights on item {item_id}")
    named = sorted({s.name for s in spans if s.name != "Unknown"})
    say(f"\nDone: {len(spans)} face timespans on item {item_id}; named: {', '.join(named) or 'nobody'}.")
    if work.exists():
        shutil.rmtree(work / "jobs", ignore_errors=True)
