"""Engine room: pixels in, faces (boxes, landmarks, scores, unit embeddings) out.

Knows numpy, ONNX Runtime and dlib; nothing about media containers, stores or VidiCore.
Which engines exist, and what "auto" picks, is the registry's (``engine/registry.py``).
"""

from __future__ import annotations

from vidiplug.engine.base import Box, Detection, Engine, EngineInfo, LumaDetector
from vidiplug.engine.calibration import DecisionRules
from vidiplug.engine.registry import ENGINES, load_engine

__all__ = [
    "ENGINES",
    "Box",
    "DecisionRules",
    "Detection",
    "Engine",
    "EngineInfo",
    "LumaDetector",
    "load_engine",
]
