"""The WSGI plumbing: requests, responses, content negotiation and path routing.

Imports only the standard library, the document codec and the error tree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from mock_vidicore.documents import Doc, parse_json, parse_xml, render_json, render_xml
from mock_vidicore.errors import ApiError, invalid_input


@dataclass
class Request:
    """One parsed HTTP request. ``params`` holds path captures; ``user`` the authenticated name."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    user: str = ""
    params: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str = "") -> str:
        """The first value of query parameter ``name``, or ``default``."""
        for key, value in self.query:
            if key == name:
                return value
        return default

    def args(self, name: str) -> list[str]:
        """Every value of a repeatable query parameter; comma lists are split."""
        return [part for key, value in self.query if key == name
                for part in value.split(",") if part]

    def all_args(self, name: str) -> list[str]:
        """Every raw value of a repeatable parameter (no comma splitting, e.g. jobmetadata)."""
        return [value for key, value in self.query if key == name]

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean query parameter (`true`/`false`); anything else is a 400."""
        raw = self.arg(name)
        if not raw:
            return default
        if raw.lower() not in ("true", "false"):
            raise invalid_input("query", f"{name} must be true or false", value=raw)
        return raw.lower() == "true"

    def int_arg(self, name: str, default: int) -> int:
        """A positive integer query parameter such as `first` or `number`."""
        raw = self.arg(name)
        if not raw:
            return default
        if not raw.isdigit():
            raise invalid_input("query", f"{name} must be a non-negative integer", value=raw)
        return int(raw)

    @property
    def wants_json(self) -> bool:
        """True when the client asked for JSON with `Accept`."""
        return "json" in self.headers.get("accept", "").lower()

    @property
    def wants_text(self) -> bool:
        """True when the client asked only for text/plain."""
        accept = self.headers.get("accept", "").lower()
        return "text/plain" in accept and "json" not in accept and "xml" not in accept

    def body_is_json(self) -> bool:
        """True when the body is JSON: by Content-Type, or sniffed (`{`/`[`) when there is none."""
        kind = self.headers.get("content-type", "").lower()
        return "json" in kind or (not kind and self.body.lstrip()[:1] in (b"{", b"["))

    def document(self, root: str, required: bool = True) -> Doc:
        """The body as a JSON-form document; XML is checked to have root ``root``.

        The format follows Content-Type (sniffed when absent). An empty body is
        `{}` unless ``required``, which makes it a 400.
        """
        if not self.body.strip():
            if required:
                raise invalid_input("body", f"a {root} body is required")
            return {}
        kind = self.headers.get("content-type", "").lower()
        if self.body_is_json():
            return parse_json(self.body)
        if "xml" in kind or not kind or "text/plain" in kind:
            return parse_xml(self.body, root)
        raise invalid_input("body", f"unsupported Content-Type {kind!r}")


@dataclass
class Response:
    """An HTTP response: status, body bytes and headers."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


def document_response(request: Request, root: str, doc: Doc, status: int = 200) -> Response:
    """Answer with ``doc`` as JSON (on `Accept: application/json`) or namespaced XML."""
    if request.wants_json:
        return Response(status, render_json(doc), "application/json; charset=utf-8")
    return Response(status, render_xml(root, doc), "application/xml; charset=utf-8")


def text_response(text: str, status: int = 200) -> Response:
    """A text/plain answer (ids, status strings, CRLF lists)."""
    return Response(status, text.encode("utf-8"))


def error_response(request: Request, error: ApiError) -> Response:
    """An ExceptionDocument for ``error``, negotiated like any document."""
    response = document_response(request, "ExceptionDocument", {error.kind: dict(error.fields)},
                                 error.status)
    if error.status == 401:
        response.headers.append(("WWW-Authenticate", 'Basic realm="mock_vidicore"'))
    return response


Handler = Callable[[Request], Response]


class Router:
    """Maps (method, path pattern) to handlers. Patterns use `{name}` for one path segment.

    ``skip(method, pattern)`` true leaves a route out, so it answers as an unknown path
    (the mock's bridge-only routes without `--bridge`).
    """

    def __init__(self, skip: Callable[[str, str], bool] | None = None) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._skip = skip
        self.patterns: list[tuple[str, str]] = []
        self.skipped: list[tuple[str, str]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` on ``pattern`` (relative to `/API/`)."""
        if self._skip is not None and self._skip(method, pattern):
            self.skipped.append((method, pattern.strip("/")))
            return
        self.patterns.append((method, pattern.strip("/")))
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern.strip("/"))
        self._routes.append((method, re.compile(f"^{regex}$"), handler))

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        """The handler and captures for a request; 404 for an unknown path, 405 for a bad verb."""
        path = re.sub("/+", "/", path).strip("/")
        allowed = False
        for route_method, regex, handler in self._routes:
            match = regex.match(path)
            if match:
                if route_method == method:
                    return handler, match.groupdict()
                allowed = True
        if allowed:
            raise ApiError(405, "invalidInput", {"context": "method",
                                                 "explanation": f"{method} not allowed on {path}"})
        raise ApiError(404, "notFound", {"type": "path", "id": path})


def parse_query(query_string: str) -> list[tuple[str, str]]:
    """Decode a query string, keeping order and repeated keys."""
    return parse_qsl(query_string, keep_blank_values=True)

