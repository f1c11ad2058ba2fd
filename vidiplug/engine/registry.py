"""The face engines vidiplug knows, in the order "auto" prefers them, and how to build one.

Adding an engine is a module in engine/ (a class with ``from_settings`` whose EngineInfo
carries its DecisionRules) plus one entry in ENGINES. Engine modules are imported only
when built: some pull in heavy libraries.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Protocol

from vidiplug.engine.base import Engine
from vidiplug.engine.config import EngineSettings
from vidiplug.errors import EngineError, ModelNotFound

log = logging.getLogger("vidiplug.engine")

AUTO = "auto"


class EngineFactory(Protocol):
    """What an engine class offers the registry: a constructor from settings."""

    def from_settings(self, settings: EngineSettings) -> Engine:
        """The engine, with the knobs it takes from ``settings``; raises ModelNotFound when its models are missing."""
        ...


@dataclass(frozen=True)
class EngineEntry:
    """One engine: its ``name`` (the ``engine.name`` setting, the CLI's ``--engine``), where its
    class lives (``target``, "module:Class", imported on first build) and a one-line ``summary``."""

    name: str
    target: str
    summary: str

    def factory(self) -> EngineFactory:
        """The engine class, imported now."""
        module_name, _, attr = self.target.partition(":")
        factory: EngineFactory = getattr(importlib.import_module(module_name), attr)
        return factory


# Order is the "auto" preference: the first whose models are installed is built.
ENGINES: tuple[EngineEntry, ...] = (
    EngineEntry("insightface", "vidiplug.engine.insightface:InsightFaceEngine",
                "SCRFD + ArcFace ONNX pair from a model-pack folder"),
    EngineEntry("dlib", "vidiplug.engine.dlib:DlibEngine",
                "HOG (or CNN) + 5-point alignment + 128-D ResNet, weights from face_recognition_models"),
)


def engine_names() -> tuple[str, ...]:
    """Every name the ``engine.name`` setting accepts: "auto", then the registered engines in preference order."""
    return (AUTO, *(entry.name for entry in ENGINES))


def auto_rule() -> str:
    """One line saying what "auto" builds, for help texts."""
    names = [entry.name for entry in ENGINES]
    return f"the first of {', '.join(names)} whose models are installed"


def load_engine(settings: EngineSettings) -> Engine:
    """Build the engine ``settings.name`` names, or for "auto" the first in ENGINES whose models are installed.

    Raises ModelNotFound (with install instructions) when the named engine's models, or
    for "auto" the last engine's, are missing; EngineError for an unknown engine name.
    """
    if settings.name == AUTO:
        for entry in ENGINES[:-1]:
            try:
                return entry.factory().from_settings(settings)
            except ModelNotFound as exc:
                log.info("%s engine not installed (%s); trying the next", entry.name, exc)
        return ENGINES[-1].factory().from_settings(settings)
    for entry in ENGINES:
        if entry.name == settings.name:
            return entry.factory().from_settings(settings)
    raise EngineError(f"unknown engine {settings.name!r}; choose one of {', '.join(engine_names())}")
