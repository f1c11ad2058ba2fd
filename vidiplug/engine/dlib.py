"""DlibEngine: dlib's HOG (or CNN) detector, 5-point alignment and the 128-D ResNet.

The weights ship in the ``face_recognition_models`` package, so this engine works right
after install with no download. Imports nothing above engine/.
"""

from __future__ import annotations

import logging
import math
import queue
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.base import Box, Detection, EngineInfo, files_digest, l2_normalise
from vidiplug.engine.calibration import DecisionRules
from vidiplug.engine.config import EngineSettings, default_cache_dir
from vidiplug.engine.dlib_onnx import INPUT_NAME, convert_face_resnet, load_or_convert, pack_chips, store_graph
from vidiplug.engine.dlib_resnet import CHIP_PX, ResNetProcess
from vidiplug.engine.models import dlib_weight, dlib_weight_folders
from vidiplug.engine.session import ORT_ERRORS, build_session_from_bytes
from vidiplug.errors import EngineError, ModelNotFound

log = logging.getLogger("vidiplug.engine")

HOG_WINDOW_PX = 80  # dlib's frontal HOG detector scans an 80x80 window
CHIP_SIZE_PX = CHIP_PX  # dlib's ResNet takes 150x150 aligned chips
ResNetRuntime = Literal["onnx", "process", "inline"]

# Measured with benchmarks/calibrate.py on the shared labelled single-face photos
# (97 photos of 26 people of several ethnicities; aliases merged): same-person pairs 1st
# percentile 0.914, median 0.974; different people median 0.820, 99th percentile 0.894,
# maximum 0.920. At these rules: top-1 0.968, stranger false accepts 0.021. The midpoint
# z_mid is the strictest point of the flat stretch (2.5-2.7) where the photos' top-1 and
# false accepts do not change: the slack is kept against unseen footage, where a name at
# z 2.5-2.7 (a two-face track on friends.mp4 with a gallery enrolled at another detection
# size) was wrong.
RULES = DecisionRules(
    floor=0.92, margin=0.01, cohort_mean=0.86, cohort_std=0.03, prior_weight=3.0, cohort_size=10,
    z_mid=2.7, z_scale=0.8, same_shot=0.86, group=0.95,
)


MODEL_FILES = {
    "shape": "shape_predictor_5_face_landmarks.dat",
    "resnet": "dlib_face_recognition_resnet_model_v1.dat",
    "cnn": "mmod_human_face_detector.dat",
}


def model_files() -> dict[str, Path]:
    """The dlib engine's weights from the face_recognition_models package (role -> path).

    Raises ModelNotFound when the package or its landmark or ResNet file is missing (the
    CNN detector's file is needed only by ``detector="cnn"``).
    """
    folders = dlib_weight_folders()
    if not folders:
        raise ModelNotFound(
            "dlib engine: the face_recognition_models package is not installed; "
            "run `pip install face_recognition_models`"
        )
    files = {role: dlib_weight(name) or folders[0] / name for role, name in MODEL_FILES.items()}
    for role in ("shape", "resnet"):
        if not files[role].is_file():
            raise ModelNotFound(f"dlib engine: {files[role]} is missing; reinstall face_recognition_models")
    return files


class DlibEngine:
    """Face engine on dlib.

    ``detector`` is "hog" (fast, frontal faces) or "cnn" (dlib's MMOD CNN: finds rotated
    and smaller faces, about 10-50x slower on CPU). ``detect_size_px`` bounds the work per
    frame: the frame is scaled (and upsampled up to 2x) so that its long side is at most
    this many pixels, which makes the smallest face found about
    80 * long_side / detect_size_px pixels (40 px in a 640x360 frame at the default 1280).
    Raise it to find smaller faces, at quadratic cost. ``det_thresh`` in [0, 1] is the
    detection confidence a face needs (0.5 = dlib's own default threshold).

    ``resnet`` says what runs the 128-D ResNet: "onnx" (default: the same weights converted
    to an ONNX graph at start-up, run by ONNX Runtime — ~6 ms a face on one CPU core instead
    of dlib-bin's ~80 ms, CUDA with onnxruntime-gpu; falls back to "process" if the model
    file cannot be converted), "process" (dlib in a child process, which its GIL-holding
    binding needs to run beside other threads) or "inline" (dlib in this process). All
    three give the same vectors to float precision, so they share one model version.
    """

    def __init__(
        self,
        *,
        detector: str = "hog",
        detect_size_px: int = 1280,
        det_thresh: float = 0.5,
        concurrency: int = 2,
        resnet: ResNetRuntime = "onnx",
        providers: Sequence[str] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        try:
            import dlib
        except ImportError as exc:
            raise EngineError("dlib engine: dlib is not installed; run `pip install dlib-bin`") from exc
        if detector not in ("hog", "cnn"):
            raise EngineError(f"dlib engine: unknown detector {detector!r} (use hog or cnn)")
        if not 0.0 < det_thresh < 1.0:
            raise EngineError(f"dlib engine: det_thresh {det_thresh} must be between 0 and 1")
        if resnet not in ("onnx", "process", "inline"):
            raise EngineError(f"dlib engine: unknown ResNet runtime {resnet!r} (use onnx, process or inline)")
        files = model_files()
        self._dlib: Any = dlib
        self._kind = detector
        self._detect_size_px = max(160, int(detect_size_px))
        # HOG/MMOD scores are margins around 0; map the [0, 1] threshold onto that scale.
        self._adjust = math.log(det_thresh / (1.0 - det_thresh)) / 2.0
        self._files = files
        # dlib's detectors and predictors are not safe to share between threads (shared
        # scratch buffers: concurrent calls gave different boxes and crashed), so each
        # concurrent call borrows its own model set from this pool; sets are built on
        # demand and kept, so a pool never holds more sets than calls ever overlapped.
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # One set per detection thread plus one for the thread that embeds (its alignment
        # needs the shape predictor while detections run): building a set mid-analysis
        # costs ~0.25 s.
        for _ in range(max(1, concurrency) + 1):
            self._idle.put(self._new_models())
        version = files_digest([files["resnet"]])
        self._onnx: Any = self._onnx_session(providers, version, cache_dir) if resnet == "onnx" else None
        # dlib's ResNet binding holds the GIL for a whole forward pass; run it in a child
        # process so decoding and detection threads keep both cores busy meanwhile.
        in_child = resnet == "process" or (resnet == "onnx" and self._onnx is None)
        self._resnet: ResNetProcess | None = ResNetProcess(str(files["resnet"])) if in_child else None
        self.info = EngineInfo(
            name="dlib",
            model=f"{detector}+{files['resnet'].name}",
            version=version,
            dim=128,
            rules=RULES,
        )
        resnet_on = tuple(self._onnx.get_providers()) if self._onnx is not None else ("dlib-cpu",)
        self.providers: tuple[str, ...] = ("dlib-cpu", *(p for p in resnet_on if p != "dlib-cpu"))
        log.info("dlib engine ready: detector=%s model=%s version=%s, ResNet on %s", detector, self.info.model,
                 self.info.version, ", ".join(resnet_on))

    def _onnx_session(self, providers: Sequence[str] | None, version: str, cache_dir: Path | None) -> Any:
        """ONNX Runtime session of the converted ResNet, or None (logged) when the model file cannot be converted.

        The converted graph is cached in ``cache_dir`` (default: the user's cache folder),
        keyed by the weights' digest; a cached graph ONNX Runtime cannot load is converted
        again. Providers that this ONNX Runtime lacks are an error (EngineError), not a
        fallback: whoever asked for CUDA must learn that they did not get it.
        """
        label = f"{self._files['resnet'].name} (as ONNX)"
        cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        try:
            model, cached = load_or_convert(self._files["resnet"], version, cache_dir)
        except (EngineError, OSError) as exc:
            log.warning("dlib engine: ResNet not converted to ONNX (%s); running it in dlib instead", exc)
            return None
        # One intra-op thread: the analysis already runs decoding and detection threads.
        try:
            session = build_session_from_bytes(model, label, providers, threads=1)
        except EngineError:
            if cached is None:
                raise
            # A damaged cache file, or providers this ONNX Runtime lacks (then this raises again).
            log.warning("dlib engine: cached ResNet graph %s is unreadable; converting again", cached)
            model = convert_face_resnet(self._files["resnet"])
            store_graph(cached, model)
            session = build_session_from_bytes(model, label, providers, threads=1)
        try:
            # The first run allocates and plans (~0.3 s); pay that at start-up, not in the first job.
            session.run(None, {INPUT_NAME: np.zeros((1, CHIP_SIZE_PX, CHIP_SIZE_PX, 3), np.float32)})
        except ORT_ERRORS as exc:
            raise EngineError(f"{label}: ONNX Runtime cannot run it ({exc})") from exc
        return session

    def _new_models(self) -> Any:
        dlib = self._dlib
        return SimpleNamespace(
            shape=dlib.shape_predictor(str(self._files["shape"])),
            resnet=None,  # built on first in-process use only
            detector=(
                dlib.cnn_face_detection_model_v1(str(self._files["cnn"]))
                if self._kind == "cnn"
                else dlib.get_frontal_face_detector()
            ),
        )

    @classmethod
    def from_settings(cls, settings: EngineSettings) -> DlibEngine:
        """The engine ``settings`` describe: knobs ``dlib_detector``, ``detect_size_px`` and
        ``providers`` (detections come from dlib's own decision point; the analysis's
        detection threshold filters them). Raises ModelNotFound when face_recognition_models
        is missing, EngineError for a bad knob."""
        return cls(
            detector=settings.dlib_detector,
            detect_size_px=settings.detect_size_px,
            providers=settings.providers or None,
        )

    def close(self) -> None:
        """Stop the ResNet worker process, if one runs (the engine still works afterwards, in-process)."""
        if self._resnet is not None:
            self._resnet.close()
            self._resnet = None

    @contextmanager
    def _models(self) -> Iterator[Any]:
        """Borrow a model set for the duration of one call (built when none is free)."""
        try:
            models = self._idle.get_nowait()
        except queue.Empty:
            models = self._new_models()
        try:
            yield models
        finally:
            self._idle.put(models)

    def luma_size(self, width: int, height: int) -> tuple[int, int] | None:
        """(width, height) HOG works at for a ``width`` x ``height`` image; None for the CNN detector (colour)."""
        if self._kind != "hog":
            return None
        scale = self._scale(width, height)
        return max(1, int(round(width * scale))), max(1, int(round(height * scale)))

    def _scale(self, width: int, height: int) -> float:
        return min(2.0, self._detect_size_px / max(height, width, 1))

    def detect(self, image: NDArray[np.uint8], luma: NDArray[np.uint8] | None = None) -> list[Detection]:
        """Faces in an RGB uint8 image (H, W, 3), boxes in that image's pixels.

        ``luma``: the same picture as grey at ``luma_size(W, H)`` (HOG then skips converting
        and resizing ``image``); ignored when it has another shape or the detector is CNN.
        """
        image = np.ascontiguousarray(image)
        height, width = image.shape[:2]
        want = self.luma_size(width, height)
        if luma is not None and want is not None and luma.shape == (want[1], want[0]):
            work = np.ascontiguousarray(luma)
        else:
            # HOG runs on grey (luma): dlib's frontal face detector was trained on grey
            # images, and its colour mode (strongest of three gradients per pixel) costs
            # ~35% more time. Measured on the shared data: the same 99 of 101 labelled
            # faces, and 208 vs 208 detections over every video sampled at 1 s.
            work = _resize(image, self._scale(width, height), grey=self._kind == "hog")
        return self._detect_on(image, work)

    def _detect_on(self, image: NDArray[np.uint8], work: NDArray[np.uint8]) -> list[Detection]:
        """Detections in ``work`` (``image`` scaled, grey for HOG), mapped back to ``image``'s pixels."""
        height, width = image.shape[:2]
        # Per axis: the scaled size was rounded to whole pixels.
        scale_x, scale_y = work.shape[1] / width, work.shape[0] / height
        with self._models() as models:
            boxes: list[tuple[float, float, float, float, float]] = []
            if self._kind == "cnn":
                for hit in models.detector(work, 0):
                    score = float(hit.confidence)
                    if score >= self._adjust:
                        rect = hit.rect
                        boxes.append((rect.left(), rect.top(), rect.right(), rect.bottom(), score))
            else:
                rects, scores, _ = models.detector.run(work, 0, self._adjust)
                for rect, score in zip(rects, scores):
                    boxes.append((rect.left(), rect.top(), rect.right(), rect.bottom(), float(score)))
            found = []
            for x1, y1, x2, y2, score in boxes:
                box = Box(x1 / scale_x, y1 / scale_y, (x2 + 1) / scale_x, (y2 + 1) / scale_y).clipped(width, height)
                if box.width < 2 or box.height < 2:
                    continue
                shape = models.shape(image, self._rect(box))
                found.append(Detection(box, _five_points(shape), _score_to_confidence(score)))
        return found

    def embed(self, image: NDArray[np.uint8], found: Sequence[Detection]) -> NDArray[np.float32]:
        """128-D unit vectors, one row per detection (dlib ResNet on a 5-point aligned chip)."""
        if not found:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        image = np.ascontiguousarray(image)
        with self._models() as models:
            chips = [
                np.asarray(self._dlib.get_face_chip(image, models.shape(image, self._rect(det.box)),
                                                    CHIP_SIZE_PX, 0.25))
                for det in found
            ]
        if self._onnx is not None:
            try:
                return l2_normalise(self._onnx.run(None, {INPUT_NAME: pack_chips(chips)})[0])
            except ORT_ERRORS as exc:
                raise EngineError(f"dlib engine: embedding failed ({exc})") from exc
        with self._models() as models:
            if self._resnet is not None:
                return l2_normalise(self._resnet.compute(chips))
            if models.resnet is None:
                models.resnet = self._dlib.face_recognition_model_v1(str(self._files["resnet"]))
            try:
                rows = [np.asarray(models.resnet.compute_face_descriptor(chip), dtype=np.float32) for chip in chips]
            except RuntimeError as exc:
                raise EngineError(f"dlib engine: embedding failed ({exc})") from exc
        return l2_normalise(np.stack(rows))

    def _rect(self, box: Box) -> Any:
        return self._dlib.rectangle(int(round(box.x1)), int(round(box.y1)),
                                    int(round(box.x2)) - 1, int(round(box.y2)) - 1)


def _score_to_confidence(score: float) -> float:
    return float(1.0 / (1.0 + math.exp(-2.0 * score)))


def _five_points(shape: Any) -> NDArray[np.float32]:
    """dlib's 5 points (two corners per eye, nose base) as our (5, 2) order.

    Eyes become corner midpoints (image-left eye first); dlib has no mouth corners, so
    they are placed below the nose from the eye geometry, as an estimate.
    """
    pts = np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], dtype=np.float32)
    left_eye = (pts[2] + pts[3]) / 2.0
    right_eye = (pts[0] + pts[1]) / 2.0
    nose = pts[4]
    across = right_eye - left_eye
    down = np.array([-across[1], across[0]], dtype=np.float32)
    mouth_mid = nose + 0.45 * down
    return np.stack([left_eye, right_eye, nose, mouth_mid - 0.4 * across, mouth_mid + 0.4 * across]).astype(np.float32)


def _resize(image: NDArray[np.uint8], scale: float, grey: bool = False) -> NDArray[np.uint8]:
    """``image`` scaled by ``scale`` (bilinear), as luma when ``grey``; the image itself when nothing changes."""
    from PIL import Image

    if abs(scale - 1.0) <= 1e-3 and not grey:
        return image
    picture = Image.fromarray(image)
    if grey:
        picture = picture.convert("L")  # before resizing: one channel to scale instead of three
    if abs(scale - 1.0) > 1e-3:
        height, width = image.shape[:2]
        size = (max(1, int(round(width * scale))), max(1, int(round(height * scale))))
        picture = picture.resize(size, Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(picture))
