"""Engine room: pixels in, faces (boxes, landmarks, scores, unit embeddings) out.

Knows numpy, ONNX Runtime and dlib; nothing about media containers, stores or VidiCore.
"""

from __future__ import annotations

import logging

from vidiplug.engine.base import Box, Detection, Engine, EngineInfo
from vidiplug.errors import EngineError, ModelNotFound
from vidiplug.engine.config import EngineSettings

__all__ = ["Box", "Detection", "Engine", "EngineInfo", "ENGINE_NAMES", "load_engine"]

ENGINE_NAMES = ("auto", "dlib", "insightface")
log = logging.getLogger("vidiplug.engine")


def load_engine(settings: EngineSettings) -> Engine:
    """Build the engine ``settings`` ask for.

    "auto" picks insightface when a model pack is installed under the models root, else
    dlib (whose weights ship with face_recognition_models). Raises ModelNotFound (with
    install instructions) when insightface is asked for explicitly and no pack is found,
    EngineError for an unknown engine name.
    """
    if settings.name not in ENGINE_NAMES:
        raise EngineError(f"unknown engine {settings.name!r}; choose one of {', '.join(ENGINE_NAMES)}")
    if settings.name in ("auto", "insightface"):
        from vidiplug.engine.models import default_models_root, find_pack

        root = settings.models_root or default_models_root()
        try:
            pack_dir = find_pack(root, settings.pack)
        except ModelNotFound:
            if settings.name == "insightface":
                raise
            log.info("no insightface pack %r under %s; using the dlib engine", settings.pack, root)
        else:
            from vidiplug.engine.insightface import InsightFaceEngine

            insight: Engine = InsightFaceEngine(
                pack_dir=pack_dir,
                det_thresh=settings.det_thresh,
                providers=settings.providers or None,
            )
            return insight
    from vidiplug.engine.dlib import DlibEngine

    engine: Engine = DlibEngine(
        detector=settings.dlib_detector,
        detect_size_px=settings.detect_size_px,
        det_thresh=settings.det_thresh,
        providers=settings.providers or None,
    )
    return engine
