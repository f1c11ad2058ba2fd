"""InsightFaceEngine: insightface's SCRFD detector + ArcFace recogniser from a model pack, run by ONNX Runtime.

Imports insightface (lazily), onnxruntime, numpy and cv2 via align; nothing above engine/ but vidiplug.errors.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from vidiplug.engine.align import norm_crop, pad_for_detection
from vidiplug.engine.base import Box, Detection, EngineInfo, files_digest, l2_normalise
from vidiplug.engine.calibration import DecisionRules
from vidiplug.engine.config import EngineSettings
from vidiplug.engine.models import ModelRole, default_models_root, find_pack, identify_model, read_pack
from vidiplug.engine.session import ORT_ERRORS, build_session
from vidiplug.errors import EngineError, ModelNotFound

log = logging.getLogger("vidiplug.engine")

STRIDE_PX = 32  # SCRFD's coarsest feature stride: detector input sides must be multiples of it
CROP_MAX_ASPECT = 1.5  # long/short side above which an image is a frame, not a face crop (16:9 = 1.78)
# insightface checks model signatures with assert; we report those as EngineError.
LOAD_ERRORS: tuple[type[BaseException], ...] = (AssertionError, *ORT_ERRORS)

# ArcFace's usual scale: the same person ~0.5, strangers ~0.1 (not yet measured on the
# shared photos the way dlib's rules were).
RULES = DecisionRules(
    floor=0.35, margin=0.05, cohort_mean=0.10, cohort_std=0.08, prior_weight=3.0, cohort_size=10,
    z_mid=2.5, z_scale=0.8, same_shot=0.2, group=0.45,
)


def _insightface_classes() -> tuple[Any, Any]:
    # Imported on first engine build, not at module import: insightface pulls in cv2,
    # skimage and its app layer (about a second). Deprecation noise from its import
    # chain is not ours to fix and must not fail a run under -W error.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        from insightface.model_zoo.arcface_onnx import ArcFaceONNX
        from insightface.model_zoo.scrfd import SCRFD
    return SCRFD, ArcFaceONNX


class InsightFaceEngine:
    """Face engine on an insightface model pack (e.g. buffalo_l: det_10g.onnx + w600k_r50.onnx, 512-D).

    Give ``pack_dir`` (its detector and recogniser are told apart by their input/output
    signatures), or ``detector_path`` and ``recogniser_path``. ``detector_session`` and
    ``recogniser_session`` are ONNX Runtime sessions already built from those files (tests
    hand in tiny graphs this way); otherwise sessions are built with ``providers``
    (None = CUDA when onnxruntime-gpu sees a GPU, else CPU).

    Knobs: ``det_thresh`` in (0, 1) is the SCRFD score a face needs (0.5 = insightface's
    default; lower finds more profile and blurred faces, and more false ones).
    ``det_size`` is the (width, height) pixels the detector works at, multiples of 32; the
    image is scaled to fit it, and faces under about 12 px at that scale are missed (in a
    1920x1080 frame at the default (640, 640), faces under ~36 px); raise it to find
    smaller faces, at quadratic cost. ``nms_thresh`` is the box overlap (IoU) above which
    the weaker of two detections is dropped.

    Tight crops: a face that fills the image leaves SCRFD no context and is often missed.
    When nothing is found in an image whose long side is at most ``pad_max_px`` and whose
    sides are within 3:2 of each other (a face crop, not a video frame, so faceless frames
    never pay for a second pass), detection is retried once on a copy with a mean-colour
    border of ``pad_ratio`` times the image's size on every side, and the results are
    mapped back into the image (boxes clipped to it; landmarks left as found).
    ``pad_max_px=0`` turns this off.

    Raises ModelNotFound when a model file is missing, EngineError when the files are
    not an SCRFD detector with landmarks and an ArcFace recogniser, or do not load.
    """

    def __init__(
        self,
        pack_dir: Path | None = None,
        *,
        detector_path: Path | None = None,
        recogniser_path: Path | None = None,
        detector_session: ort.InferenceSession | None = None,
        recogniser_session: ort.InferenceSession | None = None,
        providers: Sequence[str] | None = None,
        det_thresh: float = 0.5,
        det_size: tuple[int, int] = (640, 640),
        nms_thresh: float = 0.4,
        pad_max_px: int = 640,
        pad_ratio: float = 0.5,
    ) -> None:
        if not 0.0 < det_thresh < 1.0:
            raise EngineError(f"insightface engine: det_thresh {det_thresh} must be between 0 and 1")
        if len(det_size) != 2 or any(side <= 0 or side % STRIDE_PX for side in det_size):
            raise EngineError(f"insightface engine: det_size {det_size} must be two positive multiples of {STRIDE_PX}")
        if pad_ratio < 0 or pad_max_px < 0:
            raise EngineError("insightface engine: pad_ratio and pad_max_px must be >= 0")
        det_path, rec_path = _model_paths(pack_dir, detector_path, recogniser_path)
        det_session = detector_session if detector_session is not None else build_session(det_path, providers)
        rec_session = recogniser_session if recogniser_session is not None else build_session(rec_path, providers)
        scrfd_cls, arcface_cls = _insightface_classes()
        self._detector = _make_detector(scrfd_cls, det_path, det_session)
        if not self._detector.use_kps:
            raise EngineError(f"{det_path}: this SCRFD detector has no landmark outputs, which alignment needs")
        self._detector.det_thresh = float(det_thresh)
        self._detector.nms_thresh = float(nms_thresh)
        try:
            self._recogniser = arcface_cls(model_file=str(rec_path), session=rec_session)
        except LOAD_ERRORS as exc:
            raise EngineError(f"{rec_path}: not an ArcFace recogniser (one input, one output expected)") from exc
        self._det_size = (int(det_size[0]), int(det_size[1]))
        self._crop_px = int(self._recogniser.input_size[0])
        rec_batch = self._recogniser.input_shape[0]
        self._batched = not (isinstance(rec_batch, int) and rec_batch == 1)
        self._pad_max_px = int(pad_max_px)
        self._pad_ratio = float(pad_ratio)
        self.info = EngineInfo(
            name="insightface",
            model=f"{det_path.name}+{rec_path.name}",
            version=files_digest([det_path, rec_path]),
            dim=self._embedding_dim(),
            rules=RULES,
        )
        self.providers: tuple[str, ...] = tuple(
            dict.fromkeys([*det_session.get_providers(), *rec_session.get_providers()]))
        log.info(
            "insightface engine ready: model=%s version=%s dim=%d providers=%s",
            self.info.model, self.info.version, self.info.dim, ", ".join(self.providers),
        )

    @classmethod
    def from_settings(cls, settings: EngineSettings) -> InsightFaceEngine:
        """The engine on pack ``settings.pack`` under ``settings.models_root`` (None = the user data dir).

        Knobs taken: ``providers`` (detections come from SCRFD's default 0.5; the analysis's
        detection threshold filters them). Raises ModelNotFound, with install
        instructions, when no usable pack is there.
        """
        pack_dir = find_pack(default_models_root(settings.models_root), settings.pack)
        return cls(pack_dir=pack_dir, providers=settings.providers or None)

    def detect(self, image: NDArray[np.uint8]) -> list[Detection]:
        """Faces in an RGB uint8 image (H, W, 3): boxes and (5, 2) landmarks in its pixels, best score first."""
        rgb = _checked(image)
        height, width = rgb.shape[:2]
        found = self._detect_once(rgb)
        if found or not self._looks_like_crop(width, height):
            return found
        padded, (off_x, off_y) = pad_for_detection(rgb, self._pad_ratio)
        shift = np.array([off_x, off_y], dtype=np.float32)
        result = []
        for det in self._detect_once(padded):
            box = Box(det.box.x1 - off_x, det.box.y1 - off_y,
                      det.box.x2 - off_x, det.box.y2 - off_y).clipped(width, height)
            if box.width >= 1 and box.height >= 1:  # anything found wholly in the border is not in the image
                result.append(Detection(box, (det.landmarks - shift).astype(np.float32), det.score))
        log.debug("no face in %dx%d image; %d found with a %.2f border", width, height, len(result), self._pad_ratio)
        return result

    def embed(self, image: NDArray[np.uint8], found: Sequence[Detection]) -> NDArray[np.float32]:
        """One L2-normalised row per detection, shape (len(found), info.dim): ArcFace on the 5-point aligned crop."""
        if not found:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        rgb = _checked(image)
        # insightface's ArcFaceONNX takes BGR (as cv2 reads images) and swaps to RGB itself.
        crops = [np.ascontiguousarray(norm_crop(rgb, det.landmarks, self._crop_px)[:, :, ::-1]) for det in found]
        batches = [crops] if self._batched else [[crop] for crop in crops]
        try:
            rows = np.concatenate([np.asarray(self._recogniser.get_feat(batch), dtype=np.float32) for batch in batches])
        except ORT_ERRORS as exc:
            raise EngineError(f"insightface engine: recogniser {self.info.model} failed ({exc})") from exc
        rows = rows.reshape(len(found), -1)
        if rows.shape[1] != self.info.dim or not np.isfinite(rows).all():
            raise EngineError(
                f"insightface engine: recogniser gave {rows.shape} or non-finite values, expected dim {self.info.dim}"
            )
        return l2_normalise(rows)

    def _detect_once(self, rgb: NDArray[np.uint8]) -> list[Detection]:
        height, width = rgb.shape[:2]
        scale = min(self._det_size[0] / width, self._det_size[1] / height)  # SCRFD's letterbox scale
        if min(width, height) * scale < 2:
            return []  # a sliver under 2 px across at detector scale holds no face (and breaks cv2.resize)
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])  # SCRFD takes BGR and swaps to RGB itself
        try:
            boxes, points = self._detector.detect(bgr, input_size=self._det_size)
        except ORT_ERRORS as exc:
            raise EngineError(
                f"insightface engine: detector {self.info.model} failed on a {width}x{height} image ({exc})"
            ) from exc
        found = []
        for row, kps in zip(np.asarray(boxes, dtype=np.float32), np.asarray(points, dtype=np.float32)):
            box = Box(float(row[0]), float(row[1]), float(row[2]), float(row[3])).clipped(width, height)
            if box.width >= 1 and box.height >= 1:
                found.append(Detection(box, kps.reshape(5, 2).astype(np.float32), float(np.clip(row[4], 0.0, 1.0))))
        return found

    def _looks_like_crop(self, width: int, height: int) -> bool:
        long_side, short_side = max(width, height), max(1, min(width, height))
        return 0 < long_side <= self._pad_max_px and long_side / short_side <= CROP_MAX_ASPECT

    def _embedding_dim(self) -> int:
        size = self._recogniser.output_shape[-1]
        if isinstance(size, int) and size > 0:
            return size
        # A symbolic output size: find it by embedding one grey crop.
        grey = np.full((self._crop_px, self._crop_px, 3), 128, dtype=np.uint8)
        try:
            return int(np.asarray(self._recogniser.get_feat([grey])).reshape(1, -1).shape[1])
        except ORT_ERRORS as exc:
            path = self._recogniser.model_file
            raise EngineError(f"recogniser {path}: cannot run it to learn its output size ({exc})") from exc


def _model_paths(pack_dir: Path | None, detector: Path | None, recogniser: Path | None) -> tuple[Path, Path]:
    """The detector and recogniser files: explicit paths win, the rest is looked up in ``pack_dir``."""
    if detector is None or recogniser is None:
        if pack_dir is None:
            raise EngineError("insightface engine: give pack_dir, or both detector_path and recogniser_path")
        if not pack_dir.is_dir():
            raise ModelNotFound(f"insightface pack folder {pack_dir} does not exist")
        pack = read_pack(pack_dir)
        detector = detector or pack.detector
        recogniser = recogniser or pack.recogniser
        if detector is None or recogniser is None:
            missing = "SCRFD detector with landmarks" if detector is None else "ArcFace recogniser"
            names = ", ".join(f.path.name for f in pack.files) or "no .onnx files"
            raise ModelNotFound(f"{pack.path}: no {missing} among {names}")
        return detector, recogniser
    for path, role in ((detector, ModelRole.DETECTOR), (recogniser, ModelRole.RECOGNISER)):
        if not path.is_file():
            raise ModelNotFound(f"insightface {role.value} {path} does not exist")
        if identify_model(path) != role:
            raise EngineError(f"{path}: not an insightface {role.value} (by its inputs and outputs)")
    return detector, recogniser


def _make_detector(scrfd_cls: Any, path: Path, session: ort.InferenceSession) -> Any:
    # static_shape_sessions=False keeps every detector size on our one session (insightface
    # 2.x would otherwise build a second, fixed-shape session per size behind our back, whose
    # providers we did not choose or log); insightface 0.7 has no such option.
    kwargs: dict[str, Any] = {}
    if "static_shape_sessions" in inspect.signature(scrfd_cls.__init__).parameters:
        kwargs["static_shape_sessions"] = False
    try:
        return scrfd_cls(model_file=str(path), session=session, **kwargs)
    except LOAD_ERRORS as exc:
        raise EngineError(f"{path}: not an SCRFD detector ({exc})") from exc


def _checked(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise EngineError(f"insightface engine: expected an RGB uint8 (H, W, 3) image, got {arr.dtype} {arr.shape}")
    return arr
