"""UnknownsWatch: notice what operators did to unknown-face items, on a schedule (apscheduler).

Every ``unknowns_watch_interval_s`` one paged search lists the items carrying
``vcs_face_externalId``; compared with the identity store: an item whose ``vcs_face_value``
differs from its fingerprint's name gets a ``VCS_TRAINING_RELABEL_ITEM`` job (the runner
renames the fingerprint and rewrites the timelines through a callback), an unknown
fingerprint whose item is gone is suppressed (matched, never reported or re-imported), and
a pending fingerprint whose item has appeared is marked imported in the store.

In direct mode there are no custom jobs: the watch runs the relabel itself, and a merge
asked for with ``vidiplug_mergeInto`` (the target item's id) on an unknown-face item too;
each outcome is written to the item's status fields.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from vidiplug.errors import VidiplugError
from vidiplug.identity.gallery import Identity, IdentityKind
from vidiplug.service.declaration import MERGE_FIELD, MERGE_JOB_TYPE, RELABEL_JOB_TYPE
from vidiplug.service.identity_jobs import MERGED_METHOD, MODEL_TYPE
from vidiplug.service.reporting import RequestStatus, generic_document
from vidiplug.service.requests import request_job, run_id
from vidiplug.service.retries import RetryPolicy
from vidiplug.service.runner import JobContext, run_job
from vidiplug.vidicore.client import VidiCoreClient
from vidiplug.vidicore.documents import Item, JobState

log = logging.getLogger("vidiplug.service")
ITEM_FIELDS = ("vcs_face_externalId", "vcs_face_value", "vcs_face_method", MERGE_FIELD)
IN_FLIGHT = (JobState.READY, JobState.STARTED, JobState.VIDINET_JOB)


@dataclass(frozen=True)
class WatchReport:
    """What one look did: relabel jobs started (job ids; run ids in direct mode), fingerprints
    suppressed, fingerprints watched, merges run (direct mode: run ids)."""

    relabel_jobs: tuple[str, ...] = ()
    suppressed: tuple[str, ...] = ()
    watched: int = 0
    merges: tuple[str, ...] = ()


class UnknownsWatch:
    """Looks at the fingerprint items every ``interval_s`` seconds; ``start()`` / ``stop()``, or ``check_once()``.

    ``resource_id``: our service resource (whose in-flight merge/relabel jobs are looked
    up); None in direct mode, where relabels and merges run here, synchronously. The relabel
    jobs it starts name no callback resource (VidiCore's ``POST /job`` takes
    none); the service hands them back through its own.
    Only a fingerprint that has been seen with an item can be suppressed (``IdentityStore.item_sightings``):
    a fingerprint whose analyze callback has not created its item yet is left alone.
    A name is asked for once per item and name by all instances sharing the identity store
    (``IdentityStore.claim_relabel``), so two instances never both start a relabel job for one rename,
    and a name the store refuses (the relabel job fails, naming it) is not asked for again
    until it changes.
    """

    def __init__(self, context: JobContext, resource_id: str | None, interval_s: float | None = None) -> None:
        self._context = context
        self._resource_id = resource_id
        self._direct = resource_id is None
        self._interval_s = interval_s if interval_s is not None else context.settings.service.unknowns_watch_interval_s
        self._lock = threading.Lock()
        self._scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1})

    def start(self) -> None:
        """Look right away, then every ``interval_s`` seconds in a background thread."""
        self._scheduler.add_job(self._scheduled, "interval", seconds=self._interval_s,
                                next_run_time=datetime.now(UTC), id="unknowns-watch")
        self._scheduler.start()

    def stop(self) -> None:
        """Stop looking (a look in progress finishes first)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def _scheduled(self) -> None:
        try:
            self.check_once()
        except VidiplugError as exc:  # VidiCore or the store unavailable: try again next time
            log.warning("watching unknown-face items failed: %s", exc)

    def check_once(self) -> WatchReport:
        """One look: confirm the items of pending fingerprints, start relabel jobs for named items,
        suppress fingerprints whose item is gone.

        Raises VidiCoreError or StoreError when VidiCore or the store cannot be read; then
        nothing is suppressed.
        """
        with self._lock, self._context.client_factory() as client:
            identities = {identity.id: identity for identity in self._context.store.iter_identities()}
            items = self._items_by_fingerprint(client, identities)
            # An item carrying a fingerprint is VidiCore's confirmation that it was imported.
            self._context.store.mark_imported(items)
            seen = self._context.store.item_sightings()
            self._context.store.record_item_sightings({fp: found[0].id for fp, found in items.items()
                                    if not identities[fp].suppressed and seen.get(fp) != found[0].id})
            started = self._relabel(client, identities, items)
            merges = self._merges(items) if self._direct else []
            suppressed = self._suppress_gone(client, identities, items, seen)
        return WatchReport(tuple(started), tuple(suppressed), len(items), tuple(merges))

    def _items_by_fingerprint(self, client: VidiCoreClient,
                              identities: Mapping[str, Identity]) -> dict[str, list[Item]]:
        """Our fingerprints that items carry (compared exactly: the search is case-insensitive)."""
        found: dict[str, list[Item]] = {}
        for item in client.search_items_with_fields("vcs_face_externalId", "*", ITEM_FIELDS):
            for fingerprint in item.fields.get("vcs_face_externalId", ()):
                if fingerprint in identities:
                    found.setdefault(fingerprint, []).append(item)
        return found

    def _relabel(self, client: VidiCoreClient, identities: Mapping[str, Identity],
                 items: Mapping[str, list[Item]]) -> list[str]:
        """Start a relabel job for each fingerprint whose item's vcs_face_value differs from its name."""
        wanted: dict[str, list[tuple[str, str]]] = {}  # fingerprint -> (item id, name) asking for a new name
        asked = self._context.store.relabel_requests()
        for fingerprint, found in items.items():
            identity = identities[fingerprint]
            for item in found:
                name = (item.field("vcs_face_value") or "").strip()
                if (identity.suppressed or not name or name == identity.name
                        or item.field("vcs_face_method") == MERGED_METHOD or asked.get(item.id) == name):
                    continue
                wanted.setdefault(fingerprint, []).append((item.id, name))
        if not wanted:
            return []
        busy = self._busy_items(client)
        started: list[str] = []
        for fingerprint, asks in wanted.items():
            # One name per fingerprint per look: the next look sees the outcome.
            for item_id, name in (ask for ask in asks if ask[0] not in busy):
                if not self._context.store.claim_relabel(item_id, name, self._context.instance):
                    continue  # another instance asked for this name a moment ago
                if self._direct:
                    started.append(self._run_here(RELABEL_JOB_TYPE, item_id,
                                                  {"itemId": item_id, "newLabel": name, "modelType": MODEL_TYPE}))
                    break
                try:
                    job = client.start_job(RELABEL_JOB_TYPE,
                                           {"itemId": item_id, "newLabel": name, "modelType": MODEL_TYPE})
                except VidiplugError:
                    self._context.store.release_relabel(item_id, name)  # nobody asked: the next look tries again
                    raise
                started.append(job.id)
                log.info("item %s names %s %r: relabel job %s", item_id, fingerprint, name, job.id)
                break
        return started

    def _merges(self, items: Mapping[str, list[Item]]) -> list[str]:
        """Direct mode: run the merge each unknown-face item asks for with ``vidiplug_mergeInto``; the run ids.

        Claimed in the store (``merge:{item}``), so one instance runs each; the request
        field is cleared with the outcome, so it runs once.
        """
        runs: list[str] = []
        for found in items.values():
            for item in found:
                target = (item.field(MERGE_FIELD) or "").strip()
                key = f"merge:{item.id}"
                if not target or self._context.store.claim_work(
                        key, self._context.instance, self._context.settings.service.claim_timeout_s) is None:
                    continue
                try:
                    runs.append(self._run_here(MERGE_JOB_TYPE, item.id, {
                        "itemId": item.id, "targetItemId": target, "modelType": MODEL_TYPE}, clear=MERGE_FIELD))
                finally:
                    self._context.store.release_work(key, self._context.instance)
        return runs

    def _run_here(self, job_type: str, item_id: str, data: dict[str, str], clear: str | None = None) -> str:
        """Direct mode: run a relabel or merge now, its outcome written to item ``item_id``; the run id."""
        run = run_id("relabel" if job_type == RELABEL_JOB_TYPE else "merge", item_id)
        policy = RetryPolicy.from_settings(self._context.settings.service)

        def status(client: VidiCoreClient) -> RequestStatus:
            return RequestStatus(lambda fields: client.put_item_metadata(item_id, generic_document(fields)), run,
                                 policy, f"item {item_id}", on_end=[(clear, "")] if clear else None)

        outcome = run_job(self._context, request_job(run, job_type, data, {}), reporter=status)
        log.info("item %s: %s run %s %s", item_id, job_type, run, outcome)
        return run

    def _busy_items(self, client: VidiCoreClient) -> set[str]:
        """Items a merge or relabel job not yet ended is about (another one would race it)."""
        if self._resource_id is None:
            return set()  # direct mode: relabels and merges run synchronously, one look at a time
        jobs = client.list_jobs(self._resource_id, states=IN_FLIGHT, types=(RELABEL_JOB_TYPE, MERGE_JOB_TYPE))
        return {job.data[key] for job in jobs for key in ("itemId", "targetItemId") if job.data.get(key)}

    def _suppress_gone(self, client: VidiCoreClient, identities: Mapping[str, Identity],
                       items: Mapping[str, list[Item]], seen: Mapping[str, str]) -> list[str]:
        """Suppress the unknown fingerprints seen with an item before that no item carries now."""
        suppressed: list[str] = []
        done: list[str] = []
        for fingerprint in (fp for fp in seen if fp not in items):
            identity = identities.get(fingerprint)
            if identity is None or identity.suppressed or identity.kind is IdentityKind.KNOWN:
                done.append(fingerprint)  # merged away, suppressed already, or a named person now
                continue
            # Paging over a changing result may skip an item: ask for this fingerprint alone.
            if client.search_items("vcs_face_externalId", fingerprint):
                continue
            self._context.store.set_suppressed(fingerprint)
            log.info("unknown %s has no item any more: suppressed", fingerprint)
            suppressed.append(fingerprint)
            done.append(fingerprint)
        self._context.store.forget_item_sightings(done)
        return suppressed
