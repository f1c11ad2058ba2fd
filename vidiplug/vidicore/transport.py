"""Transport: one requests.Session against VidiCore's /API, timeouts, and the error boundary.

The only module of vidiplug that catches requests' exceptions: each becomes a VidiCoreError
(``raise ... from exc``) whose text is redacted. Imports errors, logs and documents only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, BinaryIO, Self
from urllib.parse import quote, urlsplit

import requests

from vidiplug.errors import (
    Conflict,
    DocumentError,
    NotFound,
    Unauthorized,
    VidiCoreError,
    VidiCoreUnavailable,
)
from vidiplug.logs import redact
from vidiplug.vidicore.documents import JsonObject, as_list, text_of

Params = Sequence[tuple[str, str]]
BODY_CHARS = 300  # how much of an error answer an exception keeps
_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")]+")
_STATUS_ERRORS: dict[int, type[VidiCoreError]] = {
    401: Unauthorized, 403: Unauthorized, 404: NotFound, 409: Conflict,
    502: VidiCoreUnavailable, 503: VidiCoreUnavailable, 504: VidiCoreUnavailable,
}


def segment(value: str) -> str:
    """``value`` quoted as one path segment (``?``, ``#``, ``%``, spaces ... encoded).

    Raises VidiCoreError for "", ".", ".." and anything holding ``/`` or ``\\``: servers
    decode ``%2F`` before routing (WSGI does, and so does mock_vidicore), so such an id
    would address another resource. VidiCore's ids (``VX-12``) and field names never do.
    """
    if value in ("", ".", "..") or "/" in value or "\\" in value:
        raise VidiCoreError(f"{value!r} is not a usable id in a path")
    return quote(value, safe="")


class Transport:
    """The HTTP half of VidiCoreClient: session, auth, timeouts, error mapping, paging.

    ``base_url``: VidiCore's address without ``/API`` (a trailing ``/API`` is accepted).
    ``user``/``password``: HTTP Basic credentials, sent on every call and never shown in a
    repr or an error. ``timeout_s``: seconds to connect and to wait for each answer; raise it
    for large uploads on slow links. ``session``: a session to use instead of a new one (a
    test seam); it is used as given (auth and headers go on each request) and it is closed
    with the client only when the client created it. ``page_size``: the ``number`` of
    entries asked for per page when a list is read in pages.
    """

    def __init__(self, base_url: str, user: str, password: str, *, timeout_s: float = 30.0,
                 session: requests.Session | None = None, page_size: int = 100) -> None:
        base = base_url.rstrip("/")
        self._api = base if base.endswith("/API") else f"{base}/API"
        parts = urlsplit(self._api)
        self._host = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        self._user = user
        self._auth = (user, password)
        self._secrets = (password,)
        self._timeout_s = timeout_s
        self._page_size = max(1, page_size)
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact(self._api, self._secrets)!r}, user={self._user!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the session's connections (only when this client created the session)."""
        if self._owns_session:
            self._session.close()

    def _send(self, method: str, path: str, *, params: Params | None = None, json: Any = None,
              data: bytes | str | BinaryIO | None = None, headers: Mapping[str, str] | None = None,
              accept_text: bool = False) -> requests.Response:
        """Send one request to ``{base}/API/{path}`` and return the answer if its status is < 400.

        ``path`` is relative to ``/API`` and must already hold quoted segments. ``params`` are
        (name, value) pairs, so a name may repeat. ``json`` is sent as a JSON body, ``data``
        as it is. ``accept_text`` asks for text/plain instead of JSON. Raises
        VidiCoreUnavailable (no connection, timeout, 502-504), Unauthorized, NotFound,
        Conflict or VidiCoreError (any other failure).
        """
        wanted = {"Accept": "text/plain" if accept_text else "application/json", **(headers or {})}
        try:
            response = self._session.request(
                method, f"{self._api}/{path.lstrip('/')}", params=list(params or ()), json=json, data=data,
                headers=wanted, auth=self._auth, timeout=self._timeout_s, allow_redirects=False)
        except requests.Timeout as exc:
            raise VidiCoreUnavailable(f"no answer from {self._host} in {self._timeout_s:g} s",
                                      method=method, path=path) from exc
        except requests.ConnectionError as exc:
            raise VidiCoreUnavailable(f"cannot connect to {self._host} ({self._cause(exc)})",
                                      method=method, path=path) from exc
        except requests.RequestException as exc:
            raise VidiCoreError(f"request failed ({self._cause(exc)})", method=method, path=path) from exc
        if response.status_code >= 400:
            raise self._error_for(method, path, response)
        return response

    def send_raw(self, method: str, path: str, *, params: Params = (), data: bytes | None = None,
                 headers: Mapping[str, str] | None = None) -> requests.Response:
        """One request as a script's ``api`` builder describes it: body and headers as given.

        ``path`` is relative to ``/API`` with its segments already quoted. Raises like ``_send``.
        """
        return self._send(method, path, params=params, data=data, headers=headers)

    def _json(self, method: str, path: str, **kwargs: Any) -> JsonObject:
        """``_send`` and the answer's JSON object; DocumentError when the answer is not one."""
        response = self._send(method, path, **kwargs)
        try:
            doc = response.json()
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise DocumentError(f"expected a JSON document, got {self._short(response.text)!r}",
                                method=method, path=path, status=response.status_code)
        return doc

    def _pages(self, method: str, path: str, member: str, *, params: Params = (),
               json: Any = None) -> Iterator[JsonObject]:
        """Every ``member`` entry of a list document read page by page (``first``/``number``).

        Stops at ``hits``, at a page that is not ``page_size`` long, or at a page equal to
        the one before (a server that ignores ``first``), whichever comes first.
        """
        first, previous = 1, None
        while True:
            page = [*params, ("first", str(first)), ("number", str(self._page_size))]
            doc = self._json(method, path, params=page, json=json)
            entries = [e for e in as_list(doc.get(member)) if isinstance(e, dict)]
            if entries == previous:  # the server ignores `first`: never loop on one page
                return
            yield from entries
            first, previous = first + len(entries), entries
            hits = text_of(doc.get("hits"))
            if len(entries) != self._page_size or (hits is not None and hits.isdigit() and first > int(hits)):
                return

    def _error_for(self, method: str, path: str, response: requests.Response) -> VidiCoreError:
        body = self._short(response.text)
        kind = _STATUS_ERRORS.get(response.status_code, VidiCoreError)
        return kind(self._reason(response, body), method=method, path=path,
                    status=response.status_code, body=body)

    def _reason(self, response: requests.Response, body: str) -> str:
        """An ExceptionDocument as one phrase, e.g. ``notFound Item VX-1`` or ``invalidInput uri: no such file``."""
        try:
            doc = response.json()
        except ValueError:
            return body or response.reason or "error"
        if not isinstance(doc, dict) or len(doc) != 1:
            return body or "error"
        kind, detail = next(iter(doc.items()))
        if not isinstance(detail, dict):
            return self._short(f"{kind} {text_of(detail) or ''}")
        what = [t for t in (text_of(detail.get(k)) for k in ("type", "context", "id", "value")) if t]
        explanation = text_of(detail.get("explanation"))
        return self._short(" ".join([kind, *what]) + (f": {explanation}" if explanation else ""))

    def _short(self, text: str) -> str:
        text = redact(" ".join(text.split()), self._secrets)
        return text if len(text) <= BODY_CHARS else text[:BODY_CHARS] + "..."

    def _cause(self, exc: BaseException) -> str:
        """The OS reason inside a requests exception (``[Errno 111] Connection refused``), else its type."""
        found = _ERRNO.search(str(exc))
        return self._short(found.group(0)) if found else type(exc).__name__
