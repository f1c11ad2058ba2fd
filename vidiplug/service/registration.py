"""Register the service with VidiCore, idempotently: resource, callback location, configuration."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from vidiplug.service.declaration import service_declaration
from vidiplug.settings import Settings
from vidiplug.storage.location import S3Location
from vidiplug.vidicore.client import VidiCoreClient

log = logging.getLogger("vidiplug.service")


@dataclass(frozen=True)
class Registration:
    """Our VidiNet-style resource id, the callback resource id jobs should name, and the ids of the
    training collection and of the default unknown-face collection."""

    resource_id: str
    callback_id: str
    training_collection_id: str
    unknown_collection_id: str


def register(client: VidiCoreClient, settings: Settings) -> Registration:
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
    client.apply_configuration(resource.id, service_declaration(settings.service.training_collection))
    training_id = client.ensure_collection(settings.service.training_collection)
    # Seed 002's FoundByFaceAnalysis exists from the start, so operators can open it (and
    # give it rights) before the first unknown face arrives; a job naming another
    # UnknownCollectionName gets that one from its callback script.
    unknown_id = client.ensure_collection(settings.analysis.unknown_collection_name)
    log.info("registered as %s (callback %s, %s)", resource.id, callback.id, location)
    return Registration(resource.id, callback.id, training_id, unknown_id)
