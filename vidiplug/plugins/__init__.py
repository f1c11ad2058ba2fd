"""Plugins room: finds the custom-insight models (entry points, configured HTTP models) and reaches them.

In-process models are Python entry points in the group ``vidiplug.models`` (the entry point's
name is the model's name); HTTP models are configured in ``models.http`` as ``NAME=URL``
and nowhere else. Imports the pipeline's contract (pipeline/byom.py) and settings; the
service and the CLI import this room.
"""

from vidiplug.plugins.registry import ENTRY_POINT_GROUP, ModelEntry, available_models, installed_models, load_models

__all__ = ["ENTRY_POINT_GROUP", "ModelEntry", "available_models", "installed_models", "load_models"]
