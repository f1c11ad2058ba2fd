"""Resource endpoints: VidiNet services, callback locations, and service configuration.

Service configuration applies a declaration only in bridge mode (`mock_vidicore.bridge`).
"""

from __future__ import annotations

from typing import Any

from mock_vidicore.configuration import declaration_of, evaluate
from mock_vidicore.context import Context
from mock_vidicore.errors import invalid_input
from mock_vidicore.model import Resource
from mock_vidicore.s3location import S3Location
from mock_vidicore.web import Request, Response, Router, document_response, text_response

RESOURCE_TYPES = ("vidinet", "callback")
SERVICE_TYPES = ("COGNITIVE_SERVICE", "TRANSCODER")


def resource_document(resource: Resource) -> dict[str, Any]:
    """The ResourceDocument (JSON form) of a resource."""
    return {"id": resource.id, resource.type: dict(resource.body)}


def _checked_body(kind: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid_input("resource", f"<{kind}> must hold child elements")
    if kind == "vidinet":
        url, service_type = body.get("url"), body.get("type")
        if not isinstance(url, str) or not url.startswith("vidinet://"):
            raise invalid_input("resource", "vidinet needs a <url> of the form vidinet://...")
        if service_type not in SERVICE_TYPES:
            raise invalid_input("resource", f"vidinet <type> must be one of {SERVICE_TYPES}",
                                value=str(service_type))
        return {"url": url, "endpoint": body.get("endpoint", ""),
                "name": body.get("name") or "VidiNet service", "type": service_type,
                "state": body.get("state") or "ONLINE", "scheme": body.get("scheme") or ["s3"]}
    uri = body.get("uri")
    if not isinstance(uri, str):
        raise invalid_input("resource", "callback needs a <uri>")
    S3Location.parse(uri)
    return {"uri": uri}


def _kind_of(doc: dict[str, Any], expected: str | None) -> str:
    kinds = [key for key in doc if key not in ("id", "name")]
    if len(kinds) != 1 or kinds[0] not in RESOURCE_TYPES:
        raise invalid_input("resource", f"a ResourceDocument needs one of {RESOURCE_TYPES}")
    if expected is not None and kinds[0] != expected:
        raise invalid_input("resource", f"document holds <{kinds[0]}>, path says {expected}")
    return kinds[0]


def register(router: Router, ctx: Context) -> None:
    """Add the resource routes to ``router``."""
    store = ctx.store

    def typed(request: Request) -> Resource:
        kind = request.params["type"]
        resource = store.resource(request.params["id"])
        if resource.type != kind:
            raise invalid_input("resource", f"{resource.id} is a {resource.type} resource, not {kind}",
                                entity_id=resource.id)
        return resource

    def list_types(request: Request) -> Response:
        if request.wants_text:
            return text_response("\r\n".join(f"{ctx.base_url}/API/resource/{t}"
                                             for t in RESOURCE_TYPES))
        return document_response(request, "ResourceTypeListDocument",
                                 {"type": list(RESOURCE_TYPES)})

    def list_resources(request: Request) -> Response:
        kind = request.params["type"]
        if kind not in RESOURCE_TYPES:
            raise invalid_input("resource", f"unknown resource type {kind}")
        with store.lock:
            found = [r for r in store.resources.values() if r.type == kind]
            if request.wants_text:
                return text_response("\r\n".join(f"{ctx.base_url}/API/resource/{kind}/{r.id}"
                                                 for r in found))
            return document_response(request, "ResourceListDocument",
                                     {"resource": [resource_document(r) for r in found]})

    def create(request: Request) -> Response:
        doc = request.document("ResourceDocument")
        kind = _kind_of(doc, request.params.get("type"))
        body = _checked_body(kind, doc[kind])
        with store.transaction():
            resource = Resource(store.next_id("resource"), kind, body)
            store.resources[resource.id] = resource
            if request.wants_text:
                return text_response(resource.id)
            return document_response(request, "ResourceDocument", resource_document(resource))

    def get(request: Request) -> Response:
        with store.lock:
            return document_response(request, "ResourceDocument", resource_document(typed(request)))

    def modify(request: Request) -> Response:
        doc = request.document("ResourceDocument")
        with store.transaction():
            resource = typed(request)
            _kind_of(doc, resource.type)
            resource.body = _checked_body(resource.type, doc[resource.type])
            return document_response(request, "ResourceDocument", resource_document(resource))

    def delete(request: Request) -> Response:
        with store.transaction():
            del store.resources[typed(request).id]
        return text_response("")

    def status(request: Request) -> Response:
        with store.lock:
            resource = typed(request)
            if "state" not in resource.body:
                raise invalid_input("resource", f"{resource.id} has no status", entity_id=resource.id)
            return text_response(str(resource.body["state"]))

    def configuration(request: Request, apply: bool) -> Response:
        request.params["type"] = "vidinet"
        if not ctx.settings.bridge:
            # A real VidiCore pulls the configuration from VidiNet and ignores the body. The
            # mock has no VidiNet: the body is not read and nothing is created (bridge.py).
            with store.lock:
                result = evaluate(ctx, typed(request), {}, False, request.user)
            return document_response(request, "ServiceConfigurationResultDocument", result)
        doc = request.document("ServiceConfigurationDocument", required=False) if apply else {}
        with store.transaction():
            resource = typed(request)
            if doc:
                resource.configuration = doc
            result = evaluate(ctx, resource, declaration_of(resource), apply, request.user)
        return document_response(request, "ServiceConfigurationResultDocument", result)

    router.add("GET", "resource", list_types)
    router.add("POST", "resource", create)
    router.add("GET", "resource/vidinet/{id}/configuration/pre-check",
               lambda r: configuration(r, apply=False))
    router.add("PUT", "resource/vidinet/{id}/configuration", lambda r: configuration(r, apply=True))
    router.add("GET", "resource/{type}", list_resources)
    router.add("POST", "resource/{type}", create)
    router.add("GET", "resource/{type}/{id}", get)
    router.add("PUT", "resource/{type}/{id}", modify)
    router.add("DELETE", "resource/{type}/{id}", delete)
    router.add("GET", "resource/{type}/{id}/status", status)
