"""Resource calls: register the VidiNet-style service and its callback location, configure it.

Part of VidiCoreClient; speaks HTTP only through Transport.
"""

from __future__ import annotations

from contextlib import suppress
from urllib.parse import unquote, urlsplit

from vidiplug.errors import DocumentError, NotFound
from vidiplug.vidicore.documents import JsonObject, Resource, parse_resource, require
from vidiplug.vidicore.ids import id_order
from vidiplug.vidicore.transport import Transport, segment

SERVICE_TYPE = "COGNITIVE_SERVICE"


class ResourceCalls(Transport):
    """``/API/resource/...``: find-or-register (idempotent), configuration, callback URI."""

    def list_resources(self, kind: str) -> list[Resource]:
        """Every resource of ``kind`` (``"vidinet"`` or ``"callback"``), in VidiCore's order."""
        doc = self._json("GET", f"resource/{segment(kind)}")
        return [parse_resource(entry) for entry in _entries(doc)]

    def find_vidinet_resource(self, name: str, url: str) -> Resource | None:
        """The vidinet resource registered with ``url`` (exact match), or None.

        When several share the url, the oldest (lowest id) also named ``name`` wins, else the
        oldest: every instance applies this one rule, so all of them pick the same resource.
        """
        same = sorted((r for r in self.list_resources("vidinet") if r.url_or_uri == url), key=lambda r: id_order(r.id))
        named = [r for r in same if r.name == name]
        return (named or same)[0] if same else None

    def register_vidinet(self, name: str, url: str, endpoint: str) -> Resource:
        """Our COGNITIVE_SERVICE resource: the one with ``url`` if it exists, else a new one.

        ``url`` is the ``vidinet://...`` address that identifies the service (it may carry
        an access key: keep it out of logs); ``endpoint`` and ``name`` are stored with a new
        registration only. An existing resource is reused as it is, whatever its state.

        Safe when several instances register at once: finding and creating are two calls,
        so after creating, it looks again and takes the oldest resource with ``url`` (see
        ``find_vidinet_resource``); when that is not the one it just created, it deletes
        its own. VidiCore numbers resources in creation order, so whoever looks after its
        own POST sees the first one created, and every instance ends on that one.
        """
        found = self.find_vidinet_resource(name, url)
        if found is not None:
            return found
        body = {"vidinet": {"url": url, "type": SERVICE_TYPE, "endpoint": endpoint, "name": name}}
        created = parse_resource(self._json("POST", "resource/vidinet", json=body))
        return self._converge("vidinet", created, self.find_vidinet_resource(name, url))

    def find_callback_resource(self, uri: str) -> Resource | None:
        """The oldest (lowest id) callback resource for ``uri``'s location, or None.

        Compared without credentials: scheme, bucket (host), port, prefix (path) and query,
        after lower-casing scheme and host. VidiCore may mask a secret when it reads a
        resource back (vidicore-fidelity.md #10), so the secret cannot tell resources apart.
        """
        wanted = _location(uri)
        same = [r for r in self.list_resources("callback") if _location(r.url_or_uri) == wanted]
        return min(same, key=lambda r: id_order(r.id)) if same else None

    def register_callback(self, uri: str) -> Resource:
        """The callback resource for ``uri`` (``s3://key:secret@bucket/prefix/``), reused or new.

        A resource for the same location is reused, and given ``uri`` again (documented
        ``PUT resource/callback/{id}``) unless it reads back exactly so: a rotated secret
        reaches VidiCore, and a masked one is written again, which changes nothing.
        Converges like ``register_vidinet`` when several instances register at once.
        """
        found = self.find_callback_resource(uri)
        if found is None:
            created = parse_resource(self._json("POST", "resource/callback", json={"callback": {"uri": uri}}))
            found = self._converge("callback", created, self.find_callback_resource(uri))
        if _comparable(found.url_or_uri) != _comparable(uri):
            found = parse_resource(self._json("PUT", f"resource/callback/{segment(found.id)}",
                                              json={"callback": {"uri": uri}}))
        return found

    def delete_resource(self, kind: str, resource_id: str) -> None:
        """Remove resource ``resource_id`` of ``kind`` (``"vidinet"`` or ``"callback"``); NotFound if absent."""
        self._send("DELETE", f"resource/{segment(kind)}/{segment(resource_id)}", accept_text=True)

    def _converge(self, kind: str, created: Resource, winner: Resource | None) -> Resource:
        """``winner`` (the oldest match, looked up after creating ``created``); ``created`` is deleted if it lost."""
        if winner is None or winner.id == created.id:
            return created
        with suppress(NotFound):  # already gone: nothing left to tidy
            self.delete_resource(kind, created.id)
        return winner

    def get_callback_uri(self, resource_id: str) -> str:
        """The URI of callback resource ``resource_id``, credentials included: never log it."""
        resource = parse_resource(self._json("GET", f"resource/callback/{segment(resource_id)}"))
        if resource.kind != "callback":
            raise DocumentError(f"resource {resource_id} is a {resource.kind} resource, not a callback")
        return resource.url_or_uri


def _entries(doc: JsonObject) -> list[JsonObject]:
    entries = doc.get("resource")
    entries = entries if isinstance(entries, list) else [entries] if entries else []
    for entry in entries:
        require(entry, "id", "ResourceListDocument resource")
    return entries


def _location(uri: str) -> tuple[str, ...]:
    """``uri`` without its credentials, for comparing locations."""
    whole = _comparable(uri)
    return whole if len(whole) == 1 else (whole[0], *whole[3:])


def _comparable(uri: str) -> tuple[str, ...]:
    parts = urlsplit(uri)
    try:
        host, port = (parts.hostname or "").lower(), str(parts.port or "")
    except ValueError:  # a port that is not a number: compare the text as it is
        return (uri,)
    return (parts.scheme.lower(), unquote(parts.username or ""), unquote(parts.password or ""),
            host, port, parts.path, parts.query)
