"""The WSGI application: body limit, Basic auth, routing, error documents, one log line per request.

`MockApp.dispatch` is also the in-process door the callback executor's `api`
object uses, so scripts go through exactly the handlers HTTP clients do.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from mock_vidicore import collection, fields, imports, items, jobs, resources, scripting, shapes, storages
from mock_vidicore.bridge import BRIDGE_ROUTES, is_bridge_route
from mock_vidicore.context import Context
from mock_vidicore.errors import ApiError, not_authorized, too_large
from mock_vidicore.redaction import redact
from mock_vidicore.web import Request, Response, Router, error_response, parse_query

log = logging.getLogger("mock_vidicore.http")

StartResponse = Callable[..., Any]
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large",
            500: "Internal Server Error"}


def build_router(ctx: Context) -> Router:
    """Every route of the mock, registered by the module that owns it.

    Without ``settings.bridge`` the invented routes of :mod:`mock_vidicore.bridge` are left
    out, so they answer 404 as any unknown path does.
    """
    router = Router(skip=None if ctx.settings.bridge else is_bridge_route)
    for module in (resources, storages, fields, items, shapes, imports, collection, jobs,
                   scripting):
        module.register(router, ctx)
    missing = set(BRIDGE_ROUTES) - set(router.patterns) - set(router.skipped)
    if missing:  # the list in bridge.py must name routes that exist
        raise RuntimeError(f"bridge routes not registered by any module: {sorted(missing)}")
    return router


class MockApp:
    """The mock VidiCore as a WSGI callable."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.router = build_router(ctx)
        ctx.dispatch = self.dispatch

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        request = Request(method=environ["REQUEST_METHOD"], path=environ.get("PATH_INFO", ""),
                          query=parse_query(environ.get("QUERY_STRING", "")),
                          headers=headers, body=b"")
        try:
            request.body = self._read_body(environ)
            response = self.dispatch(request)
        except ApiError as error:
            response = error_response(request, error)
        query = environ.get("QUERY_STRING", "")
        shown_query = f"?{query}" if query else ""
        took_ms = (time.perf_counter() - started) * 1000
        log.info(redact(f"{environ.get('REMOTE_ADDR', '-')} {request.method} {request.path}{shown_query} "
                        f"{response.status:d} {took_ms:.1f}ms user={request.user or '-'}"))
        reason = _REASONS.get(response.status, "Error")
        start_response(f"{response.status} {reason}", [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))), *response.headers])
        return [response.body]

    def _read_body(self, environ: dict[str, Any]) -> bytes:
        limit = self.ctx.settings.max_body_bytes
        length_text = environ.get("CONTENT_LENGTH") or ""
        length = int(length_text) if length_text.isdigit() else -1
        if length > limit:
            raise too_large(limit)
        stream = environ["wsgi.input"]
        body = bytes(stream.read(length if length >= 0 else limit + 1))
        if len(body) > limit:
            raise too_large(limit)
        return body

    def dispatch(self, request: Request) -> Response:
        """Authenticate, route and run one request; every failure becomes an ExceptionDocument."""
        try:
            request.user = self._authenticate(request)
            if not (request.path == "/API" or request.path.startswith("/API/")):
                raise ApiError(404, "notFound", {"type": "path", "id": request.path})
            handler, params = self.router.resolve(request.method, request.path[len("/API"):])
            request.params = params
            imports.finish_imports(self.ctx)  # imports are asynchronous: due ones end before any answer
            return handler(request)
        except ApiError as error:
            return error_response(request, error)
        except Exception:
            # A bug in the mock must not look like a VidiCore answer: log it, answer 500.
            log.exception("internal error on %s %s", request.method, redact(request.path))
            return error_response(request, ApiError(500, "internalServer", {
                "explanation": "internal error in mock_vidicore (see its log)"}))

    def _authenticate(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            raise not_authorized()
        try:
            user, _, password = base64.b64decode(token.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise not_authorized() from None
        expected = self.ctx.settings.users.get(user)
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            raise not_authorized()
        return user
