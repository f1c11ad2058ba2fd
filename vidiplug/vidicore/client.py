"""VidiCoreClient: the one object through which vidiplug speaks VidiCore's REST API.

Its calls are grouped by area in resources.py, jobs.py, custom_jobs.py, items.py and
collection.py, definitions.py and bridge.py (the undocumented calls of bridge mode,
all in one place); transport.py holds the session, timeouts and the translation of HTTP
failures into the VidiCoreError tree. Only the vidicore room imports requests.
"""

from __future__ import annotations

from vidiplug.vidicore.bridge import BridgeCalls
from vidiplug.vidicore.collection import CollectionCalls
from vidiplug.vidicore.custom_jobs import CustomJobCalls
from vidiplug.vidicore.definitions import DefinitionCalls
from vidiplug.vidicore.items import ItemCalls
from vidiplug.vidicore.jobs import JobCalls
from vidiplug.vidicore.resources import ResourceCalls


class VidiCoreClient(ResourceCalls, JobCalls, CustomJobCalls, ItemCalls, CollectionCalls, DefinitionCalls,
                     BridgeCalls):
    """A VidiCore client owning one requests.Session; use it as a context manager.

    ``VidiCoreClient(base_url, user, password, *, timeout_s=30.0, session=None, page_size=100)``:
    ``base_url`` is VidiCore's address without ``/API``; every call sends JSON, asks for
    JSON, authenticates with HTTP Basic and waits at most ``timeout_s`` seconds. requests
    does not promise a thread-safe Session, so give each thread its own client.

    Every failure is a VidiCoreError: VidiCoreUnavailable (no connection, timeout; safe to
    retry idempotent calls), NotFound, Unauthorized, Conflict / JobAlreadyClaimed, or
    DocumentError for an answer without what was expected. Messages name the method and
    the path and never hold the password or other credentials.

        with VidiCoreClient("http://localhost:8080", "admin", "admin") as client:
            for job in client.list_jobs(resource_id):
                client.claim_job(job.id, resource_id, "host-1")
    """
