"""VidiCore entity ids (``VX-12``) in creation order: how racing registrations agree on one winner.

Part of the vidicore room; imports nothing from vidiplug.
"""

from __future__ import annotations

from collections.abc import Iterable


def id_order(entity_id: str) -> tuple[str, int, str]:
    """A sort key that puts ``entity_id`` where VidiCore created it: site, then sequence number.

    VidiCore numbers entities of one kind from one sequence per site (``VX-9`` before
    ``VX-10``), so the lowest number is the oldest. An id that is not ``SITE-number``
    sorts after every numbered id of its site, by its text.
    """
    site, _, number = entity_id.rpartition("-")
    if site and number.isdigit():
        return (site, int(number), "")
    return (site or entity_id, 1 << 62, entity_id)


def oldest(entity_ids: Iterable[str]) -> str:
    """The id VidiCore created first among ``entity_ids`` (see ``id_order``); ValueError when empty."""
    return min(entity_ids, key=id_order)
