"""The vidicore room: the only code that speaks VidiCore's REST API (requests).

Imports nothing from vidiplug but errors, logs and settings.
"""

from __future__ import annotations

from vidiplug.vidicore.client import VidiCoreClient
from vidiplug.vidicore.documents import (
    Item,
    Job,
    JobState,
    MetadataTimespans,
    Resource,
    Shape,
    parse_item,
    parse_job,
    parse_resource,
    parse_shape,
)

__all__ = [
    "Item", "Job", "JobState", "MetadataTimespans", "Resource", "Shape", "VidiCoreClient",
    "parse_item", "parse_job", "parse_resource", "parse_shape",
]
