"""Run one claimed job end to end: fetch media, analyse or train, relabel or merge, hand results back.

A job fails, the service does not: VidiplugErrors fail the job with their one-line
message; anything else is logged with its traceback and fails the job as an internal error.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from vidiplug.callbacks.bundle import CallbackFile, build_analyze_bundle, build_relabel_bundle, build_train_bundle
from vidiplug.engine.base import Engine
from vidiplug.engine.character import CharacterEngine
from vidiplug.engine.emotion import EmotionClassifier
from vidiplug.errors import (
    ConfigError,
    Conflict,
    JobParameterError,
    ModelError,
    ModelNotFound,
    VidiCoreUnavailable,
    VidiplugError,
)
from vidiplug.identity.store import IdentityStore
from vidiplug.media import probe_media
from vidiplug.pipeline.analyze import analyze_media
from vidiplug.pipeline.byom import Model, run_models
from vidiplug.pipeline.characters import character_gallery, train_character_images
from vidiplug.pipeline.params import AnalyzeParams
from vidiplug.pipeline.results import AnalysisResult
from vidiplug.pipeline.train import TrainingImage, train_images
from vidiplug.plugins import load_models
from vidiplug.render.emotion_fields import NONE as NO_EMOTION
from vidiplug.service.declaration import (
    ANALYZE_JOB_TYPE,
    ANALYZER_ID,
    CHARACTER_ANALYZER_ID,
    MERGE_JOB_TYPE,
    RELABEL_JOB_TYPE,
    TRAIN_JOB_TYPE,
)
from vidiplug.service.folders import make_job_folder
from vidiplug.service.identity_jobs import run_identity_job
from vidiplug.service.metrics import ServiceMetrics
from vidiplug.service.params import PREFIX, parse_analyze_params, parse_model_params, parse_train_params
from vidiplug.service.reporting import JobReporter, Reporter
from vidiplug.service.retries import RetryPolicy, with_retries
from vidiplug.settings import Settings
from vidiplug.storage.callback_store import CallbackStore
from vidiplug.storage.fetch import fetch_media
from vidiplug.storage.location import S3Location
from vidiplug.vidicore.client import VidiCoreClient
from vidiplug.vidicore.documents import Job
from vidiplug.vidicore.script_runner import ScriptRunner

log = logging.getLogger("vidiplug.service")
TRAIN_SOURCE_PREFIX = "vidicore:"
# A series' training vectors: a prefix that the faces' ("vidicore:") never starts, nor another series'.
CHARACTER_SOURCE_PREFIX = "vidicore-character:"
SERIES_ITEM_FIELD = "adu_av_series"
PROGRESS_EVERY_S = 2.0


JobHandler = Callable[["JobContext", VidiCoreClient, Job, Path, Reporter], None]
"""Runs one job type: (context, client, job, scratch folder, reporter); raises VidiplugError to fail the job."""


@dataclass(frozen=True)
class JobContext:
    """What every job run needs, built once by the app.

    ``callback_id``: our registration's callback resource, for jobs that name none (the
    merge and relabel jobs Vidispine's face UI starts); None before registration.
    ``metrics``: where job errors, faces and real-time factors are counted.
    """

    engine: Engine
    store: IdentityStore
    settings: Settings
    client_factory: Callable[[], VidiCoreClient]
    instance: str
    callback_id: str | None = None
    metrics: ServiceMetrics = field(default_factory=ServiceMetrics)


def run_job(context: JobContext, job: Job, handlers: Mapping[str, JobHandler] | None = None,
            reporter: Callable[[VidiCoreClient], Reporter] | None = None) -> str:
    """Run ``job`` (already claimed by ``context.instance``) and leave it handed back or failed.

    ``reporter`` makes what progress and the outcome are told to (default: the VidiCore job
    itself, bridge mode; direct mode passes a RequestStatus writing the requested item's or
    collection's metadata).

    The job's type picks its handler from ``handlers`` (default JOB_HANDLERS); a type with
    none fails the job, naming the type. Returns ``"handed_back"`` or ``"failed"`` (see
    ServiceMetrics). Set-up is inside the error handling too: a scratch folder that cannot
    be made fails the job at once, naming ``service.work_dir``, and is logged with its
    traceback.
    """
    table = JOB_HANDLERS if handlers is None else handlers
    workdir: Path | None = None
    with context.client_factory() as client:
        report = reporter(client) if reporter is not None else \
            JobReporter(client, job.id, context.instance, RetryPolicy.from_settings(context.settings.service))
        try:
            workdir = make_job_folder(context.settings.service.work_dir, job.id)
            handler_for(job, table)(context, client, job, workdir, report)
            return "handed_back"
        except (VidiCoreUnavailable, Conflict) as exc:
            context.metrics.error("job", exc)
            raise  # VidiCore unreachable past the retries, or the job is not ours: nobody to tell
        except VidiplugError as exc:
            context.metrics.error("job", exc)
            # A ConfigError is the service's own set-up failing, not the job's input. Either way
            # the traceback goes to the log (redacted like every line), the reason to VidiCore.
            log.log(logging.ERROR if isinstance(exc, ConfigError) else logging.WARNING, "job %s failed: %s", job.id,
                    exc, exc_info=True)
            report.status("FAILED_TOTAL", reason=str(exc))
        except Exception as exc:
            context.metrics.error("job", exc)
            log.exception("job %s failed with an internal error", job.id)
            report.status("FAILED_TOTAL", reason="internal error (see service log)")
        finally:
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)
    return "failed"


def _callback_store(context: JobContext, client: VidiCoreClient, job: Job,
                    report: Reporter) -> tuple[CallbackStore, S3Location]:
    """Where ``job``'s callbacks go.

    Direct mode: the configured callback location (the bundle is the run's record; the
    service runs its scripts). Bridge mode: the callback resource the job names, else the
    service's own: a custom job (merge, relabel) names none, as VidiCore's ``POST /job``
    takes no ``callbackId``; ``_hand_back`` tells VidiCore which one was used.
    """
    settings = context.settings
    if settings.vidicore.mode == "direct":
        location = S3Location.from_settings(settings.callback)
        return CallbackStore(location, endpoint_url=settings.callback.endpoint_url,
                             region=settings.callback.region, max_retries=0), location
    callback_id = job.data.get("callbackId") or context.callback_id
    if not callback_id:
        raise JobParameterError("callbackId", "", "the job names no callback resource and the service has none")
    uri = with_retries(report.policy, f"reading callback resource {callback_id}",
                       lambda: client.get_callback_uri(callback_id))
    location = S3Location.parse(uri)
    # botocore retries nothing itself: _hand_back retries under the service's policy.
    store = CallbackStore(location, endpoint_url=context.settings.callback.endpoint_url,
                          region=context.settings.callback.region, max_retries=0)
    return store, location


def _hand_back(context: JobContext, client: VidiCoreClient, callbacks: CallbackStore, job: Job,
               files: Sequence[CallbackFile], report: Reporter, note: str | None = None) -> None:
    """Upload the bundle (retried while S3 is unavailable), then have its scripts run.

    Bridge mode: set the job to VIDINET_JOB, and VidiCore's callback executor runs them;
    uploading the whole bundle again after a failed write is safe, as nothing runs before.
    The service's callback resource is named when the job itself names none. Direct mode:
    the service runs them itself (ScriptRunner, documented REST calls only), then reports
    FINISHED (with ``note`` as its message, e.g. which custom models failed); the uploaded
    bundle stays as the run's replayable record.
    """
    with_retries(report.policy, f"writing the callbacks of job {job.id}", lambda: callbacks.put_bundle(job.id, files))
    if context.settings.vidicore.mode == "direct":
        runner = ScriptRunner(client, secrets=[s for s in context.settings.secrets() if s])
        for outcome in runner.run_bundle(files, job.id):
            log.info("run %s: %s ran: %s", job.id, outcome.name, outcome.value[:300])
        report.status("FINISHED", reason=note)
        return
    report.status("VIDINET_JOB", callback_id=None if job.data.get("callbackId") else context.callback_id)


def _fetch(context: JobContext, client: VidiCoreClient, item_id: str, tag: str, workdir: Path,
           report: Reporter) -> Path:
    uris = with_retries(report.policy, f"reading the URIs of item {item_id}",
                        lambda: client.item_uris(item_id, tag=tag))
    if not uris:
        raise JobParameterError("tag", tag, f"item {item_id} has no shape with this tag")
    settings = context.settings
    return fetch_media(
        uris[0], workdir,
        s3_endpoint_url=settings.callback.endpoint_url,
        http_timeout_s=settings.service.media_timeout_s,
        max_bytes=settings.service.max_media_bytes,
    )


def _data(job: Job, key: str) -> str:
    """``job.data[key]``; JobParameterError naming ``key`` when the job lacks it."""
    value = job.data.get(key)
    if not value:
        raise JobParameterError(key, "", f"a {job.type} job needs it in its job data")
    return value


def _engine_for(context: JobContext, series: str | None) -> Engine:
    """The service's face engine, or the CharacterEngine of ``series`` (cognitive_service_AnimationModel).

    The character engine needs the anime cascade's path: ConfigError naming ``characters.cascade``
    when it is not set, or names no usable cascade.
    """
    if series is None:
        return context.engine
    cascade = context.settings.characters.cascade
    if cascade is None:
        raise ConfigError(f"{PREFIX}AnimationModel={series}: the setting characters.cascade (the path of "
                          "lbpcascade_animeface.xml) is not set")
    try:
        return CharacterEngine(series, cascade)
    except ModelNotFound as exc:
        raise ConfigError(f"characters.cascade: {exc}") from None


def _analyze(context: JobContext, client: VidiCoreClient, job: Job, workdir: Path, report: Reporter) -> None:
    item_id = _data(job, "itemId")
    params = parse_analyze_params(job.data, context.settings.analysis, AnalyzeParams(workers=2))
    engine = _engine_for(context, params.series)
    model_params = parse_model_params(job.data, context.settings.models)
    models = _models(context, model_params.names, from_job=PREFIX + "Models" in job.data)
    callbacks, location = _callback_store(context, client, job, report)
    report.progress(5, description="fetching media")
    media = _fetch(context, client, item_id, job.data.get("tag", "original"), workdir, report)
    # Deleted unknown items are noticed by the service's UnknownsWatch (suppressed in the
    # store) and, for this run, by the analyze script itself (left out of the metadata).
    # The gallery of the engine's own vector space: a series' trained characters (one mean each,
    # as measured) and its stored unknown groups, never face vectors (and the reverse).
    gallery = (character_gallery(context.store, engine) if isinstance(engine, CharacterEngine)
               else context.store.load_gallery(engine.info))
    duration_s = probe_media(media).duration_s
    last_report = [time.monotonic()]

    def progress(time_s: float) -> None:
        # At most one progress call every few seconds: each is an HTTP round trip.
        now = time.monotonic()
        if duration_s > 0 and now - last_report[0] >= PROGRESS_EVERY_S:
            last_report[0] = now
            report.progress(10 + 80 * min(1.0, time_s / duration_s), description="analysing")

    report.progress(10, description="analysing")
    analysis_started = time.monotonic()
    # The expression model runs only when the job asks for emotion: one network run per embedded face.
    # Characters have no expressions the model was trained on: no emotion for them.
    emotion = EmotionClassifier() if params.emotion != NO_EMOTION and params.series is None else None
    result = analyze_media(media, engine, gallery, params.analysis, store=context.store, progress=progress,
                           emotion=emotion)
    context.metrics.analysed(duration_s, time.monotonic() - analysis_started, result.faces_embedded, len(result.people))
    if models:
        report.progress(90, description=f"running {len(models)} custom models")
        result = run_models(media, result, models, model_params.selection)
        for failure in result.model_failures:
            log.warning("job %s: %s (the faces and the other models' insights are kept)", job.id, failure.message)
    previously, pending = _found_again(context.store, result, params.analysis.import_unknowns)
    files = build_analyze_bundle(
        job_id=job.id, item_id=item_id, result=result, callback_base_uri=location.uri,
        unknown_collection=params.unknown_collection, previously_imported=previously,
        storage_id=params.storage_id, pending_imports=pending, emotion_mode=params.emotion,
        analyzer_id=ANALYZER_ID if params.series is None else CHARACTER_ANALYZER_ID,
    )
    note = "done; " + "; ".join(f.message for f in result.model_failures) if result.model_failures else None
    _hand_back(context, client, callbacks, job, files, report, note=note)
    log.info("job %s: %d people, %d appearances, %d custom insight sets (%d models failed) handed back", job.id,
             len(result.people), result.appearance_count, len(result.custom_insights), len(result.model_failures))


def _models(context: JobContext, names: Sequence[str], *, from_job: bool) -> list[Model]:
    """The models to run, loaded. An unknown one: JobParameterError naming ``cognitive_service_Models`` when
    the job named it, else ConfigError naming ``models.run``; a model that cannot be loaded: its ModelError."""
    try:
        return load_models(names, context.settings.models)
    except ModelError as exc:
        if exc.field == "name" and from_job:
            raise JobParameterError(PREFIX + "Models", ",".join(names), f"{exc.model} {exc.reason}") from None
        if exc.field == "name":
            raise ConfigError(f"models.run: {exc.model} {exc.reason}") from None
        raise


def _found_again(store: IdentityStore, result: AnalysisResult, import_unknowns: bool) -> tuple[list[str], list[str]]:
    """The stored unknowns ``result`` found again: (whose item VidiCore confirmed, whose item is pending).

    Only a confirmed item can have been deleted by an operator. A pending one (its
    analysis's hand-back failed, or the service died before it) is imported by this job,
    unless the job imports no unknowns.
    """
    again = [p.fingerprint for p in result.people if not p.known and not p.is_new]
    waiting = store.pending_unknowns()
    pending = [fp for fp in again if fp in waiting] if import_unknowns else []
    return [fp for fp in again if fp not in waiting], pending


def _identity(context: JobContext, client: VidiCoreClient, job: Job, workdir: Path, report: Reporter) -> None:
    """Relabel or merge in the store, then hand the timeline rewrite back as a CallbackDocument.

    ``workdir`` is unused (these jobs fetch no media); it is there to fit JobHandler.
    """
    callbacks, _ = _callback_store(context, client, job, report)
    change = run_identity_job(context.store, client, job)
    files = build_relabel_bundle(job_id=job.id, fingerprint=change.fingerprint, value_id=change.value_id,
                                 value=change.value, item_id=change.item_id, item_fields=change.item_fields,
                                 analyzer_id=ANALYZER_ID, also_analyzers=(CHARACTER_ANALYZER_ID,))
    _hand_back(context, client, callbacks, job, files, report)
    log.info("job %s: %s now shows %s", job.id, change.fingerprint or change.item_id, change.value_id or change.value)


def _train(context: JobContext, client: VidiCoreClient, job: Job, workdir: Path, report: Reporter) -> None:
    collection_id = _data(job, "collectionId")
    params = parse_train_params(job.data, context.settings.analysis)
    engine = _engine_for(context, params.series)
    callbacks, _ = _callback_store(context, client, job, report)
    report.progress(5, description="reading training material")
    images: list[TrainingImage] = []
    rejected: dict[str, str] = {}
    for item_id in client.collection_items(collection_id):
        item = client.get_item(item_id)
        if item.field("vcs_face_isTrainingMaterial") != "true":
            continue
        # A series trains on the items marked with it (adu_av_series); faces on the unmarked ones.
        if (item.field(SERIES_ITEM_FIELD) or "").strip() != (params.series or ""):
            continue
        name = item.field("vcs_face_value")
        if not name:
            rejected[item_id] = "vcs_face_value (the person's name) is empty"
            continue
        try:
            path = _fetch(context, client, item_id, "original", workdir / item_id, report)
        except VidiplugError as exc:
            rejected[item_id] = str(exc)
            continue
        images.append(TrainingImage(item_id, name, path))
    report.progress(30, description=f"training on {len(images)} images")
    if isinstance(engine, CharacterEngine):
        outcomes = train_character_images(images, engine, context.store,
                                          source_prefix=f"{CHARACTER_SOURCE_PREFIX}{engine.series}:")
    else:
        outcomes = train_images(
            images, engine, context.store, min_quality=params.quality.min_quality, source_prefix=TRAIN_SOURCE_PREFIX
        )
    accepted = [o.key for o in outcomes if o.accepted]
    rejected.update({o.key: o.reason or "rejected" for o in outcomes if not o.accepted})
    _hand_back(context, client, callbacks, job, build_train_bundle(job_id=job.id, accepted=accepted,
                                                                   rejected=rejected), report)
    log.info("job %s: trained on %d images, %d rejected", job.id, len(accepted), len(rejected))


# One entry per job type the service runs: a new job type is a handler and a line here.
JOB_HANDLERS: Mapping[str, JobHandler] = MappingProxyType({
    ANALYZE_JOB_TYPE: _analyze,
    TRAIN_JOB_TYPE: _train,
    MERGE_JOB_TYPE: _identity,
    RELABEL_JOB_TYPE: _identity,
})


def handler_for(job: Job, table: Mapping[str, JobHandler] = JOB_HANDLERS) -> JobHandler:
    """The handler of ``job``'s type in ``table``; JobParameterError naming the type when it has none.

    VidiCore's type for a collection's train job is not documented (vidicore-api.md §7.2
    advises against depending on it), so a job of a type the table lacks that names a
    collection and no item goes to the table's TRAINING handler.
    """
    handler = table.get(job.type)
    if handler is not None:
        return handler
    if TRAIN_JOB_TYPE in table and "collectionId" in job.data and "itemId" not in job.data:
        return table[TRAIN_JOB_TYPE]
    known = ", ".join(table)
    raise JobParameterError("type", job.type, f"is not a job type vidiplug runs (known: {known})")
