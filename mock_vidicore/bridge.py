"""Bridge mode (`--bridge`): every behaviour of the mock that a real VidiCore does not have.

A real VidiCore hands an ANALYZE job to VidiNet and pulls a service's
configuration from VidiNet (``../shared/reference/vidicore-fidelity.md``). The
mock has no VidiNet, so vidiplug's first design talked to it through calls the
mock invented. Those exist only with ``--bridge``; without it (the default) the
mock answers them as a real VidiCore would. This module is the one list of them.
"""

from __future__ import annotations

# Routes (method, pattern relative to /API/) that only bridge mode registers. Without
# --bridge they are never added to the router, so they answer exactly as any unknown
# path does: 404 `notFound` type `path`.
BRIDGE_ROUTES: tuple[tuple[str, str], ...] = (
    ("PUT", "job/{id}/claim"),     # a service claims a READY job (READY -> STARTED)
    ("PUT", "job/{id}/progress"),  # the claimer reports progress
    ("PUT", "job/{id}/status"),    # the claimer hands the job back (VIDINET_JOB) or ends it
)

# Behaviours of real routes that differ in bridge mode. Without --bridge,
# `PUT resource/vidinet/{id}/configuration` and its `pre-check` ignore any body and
# create nothing (a real VidiCore fetches the configuration from VidiNet).
BRIDGE_BEHAVIOURS: tuple[str, ...] = (
    "PUT resource/vidinet/{id}/configuration applies the ServiceConfigurationDocument in "
    "its body (stored on the resource), or the built-in face declaration without one",
    "GET resource/vidinet/{id}/configuration/pre-check reports that declaration",
)


def is_bridge_route(method: str, pattern: str) -> bool:
    """True when (``method``, ``pattern``) is one of :data:`BRIDGE_ROUTES`."""
    return (method, pattern.strip("/")) in BRIDGE_ROUTES


def describe(bridge: bool) -> str:
    """The startup log line saying whether bridge mode is on and what it adds."""
    routes = ", ".join(f"{method} /API/{pattern}" for method, pattern in BRIDGE_ROUTES)
    if bridge:
        return f"bridge mode ON: invented endpoints answered ({routes}); service configuration applied from the mock"
    return f"bridge mode OFF: {routes} answer 404; service configuration creates nothing"
