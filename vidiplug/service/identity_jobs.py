"""The face service's custom jobs (reference §11.4): relabel an item, merge one item's identity into another's.

Each changes the identity store and returns an IdentityChange: what the callback must
rewrite on VidiCore's side (runner.py hands it back through a CallbackDocument). Both are
safe to run again: a job re-run after a crash finds the store already changed and only
describes the rewrite.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from vidiplug.errors import JobParameterError
from vidiplug.identity.gallery import Identity
from vidiplug.identity.store import IdentityStore, clean_name
from vidiplug.render.metadata_xml import UNKNOWN_VALUE
from vidiplug.service.declaration import MERGE_JOB_TYPE, RELABEL_JOB_TYPE
from vidiplug.vidicore.client import VidiCoreClient
from vidiplug.vidicore.documents import Item, Job

log = logging.getLogger("vidiplug.service")
MODEL_TYPE = "face"
MERGED_METHOD = "MERGED"
# The job data each type reads (what Vidispine's face UI sends); a continued job copies these.
JOB_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    RELABEL_JOB_TYPE: ("itemId", "newLabel", "modelType"),
    MERGE_JOB_TYPE: ("itemId", "targetItemId", "modelType"),
})


@dataclass(frozen=True)
class IdentityChange:
    """What VidiCore must show after a relabel or merge.

    Faces showing ``fingerprint`` (an ``adu_av_valueId``) show ``value_id`` and ``value``
    from now on; both None when no timeline changes. ``item_id`` gets the generic fields
    ``item_fields``.
    """

    fingerprint: str | None
    value_id: str | None
    value: str
    item_id: str
    item_fields: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def run_identity_job(store: IdentityStore, client: VidiCoreClient, job: Job) -> IdentityChange:
    """Apply ``job`` (relabel or merge) to ``store``; what the timelines must show now.

    Raises JobParameterError for missing or unusable job data (naming the key), StoreError
    for a name the store refuses, VidiCoreError when an item cannot be read.
    """
    model = job.data.get("modelType", MODEL_TYPE)
    if model != MODEL_TYPE:
        raise JobParameterError("modelType", model, f"vidiplug trains {MODEL_TYPE} models only")
    if job.type == RELABEL_JOB_TYPE:
        return relabel(store, client, _required(job, "itemId"), _required(job, "newLabel"))
    return merge(store, client, _required(job, "itemId"), _required(job, "targetItemId"))


def relabel(store: IdentityStore, client: VidiCoreClient, item_id: str, label: str) -> IdentityChange:
    """Name the fingerprint of unknown-face item ``item_id`` ``label``.

    The fingerprint (the item's ``vcs_face_externalId``) becomes the person ``label``; when
    a person of that name exists already, the two are merged (IdentityStore.rename) and the
    item is marked ``vcs_face_method=MERGED``. An item without a fingerprint (a training
    image) only gets its ``vcs_face_value``: its vectors move to the new name at the next
    training. The item's ``vcs_face_value`` is set to the name as stored (trimmed).
    """
    name = clean_name(label)
    item = client.get_item(item_id, content=("metadata",))
    fingerprint = _field(item, "vcs_face_externalId")
    if fingerprint is None:
        log.info("relabel of %s: no fingerprint, the name applies at the next training", item_id)
        return IdentityChange(None, None, name, item_id, MappingProxyType({"vcs_face_value": name}))
    current = _stored(store, fingerprint)
    if current is None:
        survivor = store.find_by_name(name)
        if survivor is None:
            raise JobParameterError("itemId", item_id, f"fingerprint {fingerprint} is not in this service's store")
        log.info("relabel of %s: %s was merged into %s before", item_id, fingerprint, survivor.id)
    else:
        survivor = store.rename(fingerprint, name)
    fields = {"vcs_face_value": survivor.name or name}
    if survivor.id != fingerprint:
        fields["vcs_face_method"] = MERGED_METHOD
    log.info("relabelled %s (item %s) as %s", fingerprint, item_id, survivor.id)
    return IdentityChange(fingerprint, survivor.id, survivor.name or name, item_id, MappingProxyType(fields))


def merge(store: IdentityStore, client: VidiCoreClient, source_item_id: str, target_item_id: str) -> IdentityChange:
    """Merge the fingerprint of unknown-face item ``source_item_id`` into the identity of ``target_item_id``.

    The target is the identity of the target item's ``vcs_face_externalId`` when the store
    holds it (another unknown, or a named one), else the person named by its
    ``vcs_face_value`` (a training item; created in the store when absent). The source's
    vectors move to the target (IdentityStore.merge), faces showing the source fingerprint
    show the target from then on, and the source item is marked ``vcs_face_method=MERGED``
    (with the target's name as ``vcs_face_value`` when it has one); it keeps its
    ``vcs_face_externalId`` and its collections, so the operator still finds the crop.
    """
    if source_item_id == target_item_id:
        raise JobParameterError("targetItemId", target_item_id, "an item cannot be merged into itself")
    source = client.get_item(source_item_id, content=("metadata",))
    fingerprint = _field(source, "vcs_face_externalId")
    if fingerprint is None:
        raise JobParameterError("itemId", source_item_id, "is not a face fingerprint item (no vcs_face_externalId)")
    target = _target_identity(store, client.get_item(target_item_id, content=("metadata",)))
    if target.id == fingerprint:
        raise JobParameterError("targetItemId", target_item_id, f"already shows fingerprint {fingerprint}")
    if _stored(store, fingerprint) is not None:
        store.merge(fingerprint, target.id)
        log.info("merged %s (item %s) into %s", fingerprint, source_item_id, target.id)
    else:
        log.info("merge of %s: %s is no longer in the store (merged before)", source_item_id, fingerprint)
    fields = {"vcs_face_method": MERGED_METHOD}
    if target.name:
        fields["vcs_face_value"] = target.name
    return IdentityChange(fingerprint, target.id, target.name or UNKNOWN_VALUE, source_item_id,
                          MappingProxyType(fields))


def _target_identity(store: IdentityStore, item: Item) -> Identity:
    external = _field(item, "vcs_face_externalId")
    found = _stored(store, external) if external is not None else None
    if found is not None:
        return found
    name = _field(item, "vcs_face_value")
    if name is not None:
        return store.person(name)
    raise JobParameterError("targetItemId", item.id, "has neither a fingerprint this service knows "
                                                      "(vcs_face_externalId) nor a person's name (vcs_face_value)")


def _stored(store: IdentityStore, identity_id: str) -> Identity | None:
    """The identity ``identity_id``, or None when the store has none (other store errors raise)."""
    return next((identity for identity in store.iter_identities() if identity.id == identity_id), None)


def _field(item: Item, name: str) -> str | None:
    value = (item.field(name) or "").strip()
    return value or None


def _required(job: Job, key: str) -> str:
    value = job.data.get(key, "").strip()
    if not value:
        raise JobParameterError(key, "", f"a {job.type} job needs {key} in its job data")
    return value
