"""EngineSettings: which face engine to build and how (re-exported by vidiplug.settings).

Lives in engine/ so the engine room needs nothing from the rooms above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_dir


@dataclass(frozen=True)
class EngineSettings:
    """Which face engine to build and how.

    ``name``: "auto" (insightface when a model pack is installed, else dlib), "dlib" or
    "insightface". ``models_root``: folder holding insightface packs (None = the user
    data dir). ``pack``: pack folder name.
    ``detect_size_px``: long side (pixels) detection works at — raise to find smaller faces.
    ``dlib_detector``: "hog" or "cnn". ``providers``: ONNX Runtime providers to prefer for
    insightface's models and the dlib engine's ResNet (empty = CUDA when available, then CPU).
    """

    name: str = "auto"
    models_root: Path | None = None
    pack: str = "buffalo_l"
    detect_size_px: int = 1280
    dlib_detector: str = "hog"
    providers: tuple[str, ...] = ()


def default_cache_dir() -> Path:
    """Where engines keep what they convert on first use (the dlib ResNet's ONNX graph): the user's cache folder."""
    return Path(user_cache_dir("vidiplug")) / "onnx"
