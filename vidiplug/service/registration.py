"""Register the service with VidiCore, idempotently.

``bridge`` mode: the VidiNet-style resource, the callback resource and the service
configuration (applied through ``PUT resource/vidinet/{id}/configuration``, which only a
VidiCore-side counterpart such as ``mock_vidicore --bridge`` honours).
``direct`` mode: no resource at all; the fields, field groups, shape tag and collections are
created with VidiCore's documented definition endpoints (reference §5.4, §4.4, §6).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from vidiplug.plugins import available_models
from vidiplug.service.declaration import direct_declaration, service_declaration
from vidiplug.settings import Settings
from vidiplug.storage.location import S3Location
from vidiplug.vidicore.client import VidiCoreClient

log = logging.getLogger("vidiplug.service")


@dataclass(frozen=True)
class Registration:
    """What registering made or found.

    ``resource_id`` / ``callback_id``: our VidiNet-style resource and the callback resource
    jobs should name (bridge mode; None in direct mode). ``training_collection_id`` and
    ``unknown_collection_id``: the training and default unknown-face collections.
    ``queue_collection_id``: the analysis queue (direct mode; None in bridge mode).
    """

    resource_id: str | None
    callback_id: str | None
    training_collection_id: str
    unknown_collection_id: str
    mode: str = "bridge"
    queue_collection_id: str | None = None

    @property
    def state_key(self) -> str:
        """What autotrain's stored state is kept under: the resource, or the mode when there is none."""
        return self.resource_id or self.mode


def register(client: VidiCoreClient, settings: Settings) -> Registration:
    """Register the way ``vidicore.mode`` says (``register_direct`` or ``register_bridge``)."""
    if settings.vidicore.mode == "direct":
        return register_direct(client, settings)
    return register_bridge(client, settings)


def register_direct(client: VidiCoreClient, settings: Settings) -> Registration:
    """Create the fields, field groups, shape tag and collections with documented calls only.

    Every call is an idempotent PUT or an ensure-by-name, so a restart, or instances
    starting together, change nothing. No resource is registered: in direct mode the
    service finds work in the analysis queue and in request fields, and applies results
    itself (ScriptRunner), so VidiCore needs no callback resource.
    """
    declaration = direct_declaration(settings.service.training_collection, models=_model_names(settings))
    define_declaration(client, declaration)
    training_id = client.ensure_collection(settings.service.training_collection)
    client.put_collection_metadata(training_id, _generic([("vcs_face_isTrainingCollection", "true")]))
    unknown_id = client.ensure_collection(settings.analysis.unknown_collection_name)
    queue_id = client.ensure_collection(settings.service.analysis_queue)
    log.info("direct mode: fields and collections ready (training %s, unknowns %s, analysis queue %s)",
             training_id, unknown_id, queue_id)
    return Registration(None, None, training_id, unknown_id, mode="direct", queue_collection_id=queue_id)


def define_declaration(client: VidiCoreClient, declaration: dict[str, Any]) -> None:
    """Create the declaration's fields, then its groups in order (subgroups first), then its shape tags."""
    for field in declaration["metadataField"]:
        client.define_field(field["name"], field["type"])
    for group in declaration["fieldGroup"]:
        client.define_field_group(group["name"], [f["name"] for f in group.get("field", [])],
                                  [g["name"] for g in group.get("group", [])])
    for tag in declaration["shapeTag"]:
        client.define_shape_tag(tag["name"])


def _model_names(settings: Settings) -> list[str]:
    """The custom-insight models whose field groups the declaration holds: every installed and configured one."""
    return [entry.name for entry in available_models(settings.models)]


def _generic(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {"timespan": [{"start": "-INF", "end": "+INF",
                          "field": [{"name": name, "value": [{"value": value}]} for name, value in pairs]}]}


def register_bridge(client: VidiCoreClient, settings: Settings) -> Registration:
    """Create or reuse our vidinet resource and callback resource, then apply the service configuration.

    A restart finds the resources it registered before (same url / same callback URI)
    and reuses them, so job addresses stay valid. Instances started together converge on
    one resource per name (the oldest; see ``VidiCoreClient.register_vidinet``); other
    resources left with our url by older releases are ignored, with a warning.
    """
    name = settings.vidicore.resource_name
    url = f"vidinet://{name}@vidiplug"
    resource = client.register_vidinet(name=name, url=url, endpoint="vidiplug")
    ignored = sorted(r.id for r in client.list_resources("vidinet") if r.url_or_uri == url and r.id != resource.id)
    if ignored:
        log.warning("resources %s also carry %s; using the oldest, %s (jobs addressed to the others are not run)",
                    ", ".join(ignored), url, resource.id)
    location = S3Location.from_settings(settings.callback)
    callback = client.register_callback(location.uri_with_credentials())
    client.apply_configuration(resource.id, service_declaration(settings.service.training_collection,
                                                                models=_model_names(settings)))
    training_id = client.ensure_collection(settings.service.training_collection)
    # Seed 002's FoundByFaceAnalysis exists from the start, so operators can open it (and
    # give it rights) before the first unknown face arrives; a job naming another
    # UnknownCollectionName gets that one from its callback script.
    unknown_id = client.ensure_collection(settings.analysis.unknown_collection_name)
    log.info("registered as %s (callback %s, %s)", resource.id, callback.id, location)
    return Registration(resource.id, callback.id, training_id, unknown_id, mode="bridge")
