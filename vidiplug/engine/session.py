"""ONNX Runtime sessions: provider choice (CUDA when it is really there, else CPU) and load errors.

Imports onnxruntime and vidiplug.errors only; nothing above engine/.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as _ort_state

from vidiplug.errors import EngineError, ModelNotFound

log = logging.getLogger("vidiplug.engine")

# The order we prefer providers in. Azure (a remote-call provider) and TensorRT (builds
# engines for minutes on first use, needs its own tuning) are never picked by default;
# a caller may still ask for them explicitly.
PROVIDER_PREFERENCE = ("CUDAExecutionProvider", "CPUExecutionProvider")

# ORT's Python exceptions derive from Exception directly, not from RuntimeError.
ORT_ERRORS: tuple[type[BaseException], ...] = (
    *(
        cls
        for cls in (
            getattr(_ort_state, name, None)
            for name in (
                "Fail", "InvalidArgument", "NoSuchFile", "NoModel", "EngineError", "RuntimeException",
                "InvalidProtobuf", "ModelLoaded", "NotImplemented", "InvalidGraph", "EPFail",
            )
        )
        if isinstance(cls, type) and issubclass(cls, BaseException)
    ),
    RuntimeError,
    ValueError,
    OSError,
)


def preferred_providers(available: Sequence[str] | None = None) -> list[str]:
    """The providers a session should ask for, best first: CUDA when available, then CPU.

    ``available`` defaults to ``onnxruntime.get_available_providers()`` (CUDA is listed
    there only with the onnxruntime-gpu package). Raises EngineError when neither CUDA
    nor CPU is available.
    """
    have = list(ort.get_available_providers() if available is None else available)
    chosen = [name for name in PROVIDER_PREFERENCE if name in have]
    if not chosen:
        wanted, has = ", ".join(PROVIDER_PREFERENCE), ", ".join(have) or "none"
        raise EngineError(f"ONNX Runtime offers none of {wanted} (it has {has})")
    return chosen


def build_session(path: Path, providers: Sequence[str] | None = None) -> ort.InferenceSession:
    """An ONNX Runtime session for the model file ``path``.

    ``providers`` is the list to try in order (None = ``preferred_providers()``); asking
    for a provider this ONNX Runtime does not have raises EngineError rather than silently
    running elsewhere. ORT itself falls back to CPU when CUDA is installed but cannot
    start (missing CUDA/cuDNN libraries), so the providers the session really got are
    logged (logger ``vidiplug.engine``), with a warning when CUDA was asked for and not
    obtained. Raises ModelNotFound when the file is missing and EngineError naming the
    file when ONNX Runtime cannot load it.
    """
    wanted = _wanted_providers(str(path), providers)
    if not path.is_file():
        raise ModelNotFound(f"{path}: model file not found")
    return _open(str(path), str(path), path.name, wanted, None)


def build_session_from_bytes(
    model: bytes, label: str, providers: Sequence[str] | None = None, *, threads: int | None = None
) -> ort.InferenceSession:
    """An ONNX Runtime session for a serialized model built in memory (``label`` names it in messages).

    Providers as for ``build_session`` (None = CUDA when available, then CPU). ``threads``
    caps ONNX Runtime's intra-op threads and stops them spinning while idle, for a
    session that shares the CPU with decoding and detection threads of its own process.
    """
    return _open(model, label, label, _wanted_providers(label, providers), threads)


def _wanted_providers(label: str, providers: Sequence[str] | None) -> list[str]:
    """``providers`` checked against this ONNX Runtime (None: CUDA when available, then CPU)."""
    available = ort.get_available_providers()
    if providers is None:
        return preferred_providers(available)
    wanted = list(dict.fromkeys(providers))
    missing = [name for name in wanted if name not in available]
    if missing or not wanted:
        raise EngineError(
            f"{label}: ONNX Runtime provider(s) {', '.join(missing) or '(none given)'} not available; "
            f"this installation has {', '.join(available)}"
        )
    return wanted


def _open(source: str | bytes, label: str, short: str, wanted: list[str], threads: int | None) -> ort.InferenceSession:
    if "CUDAExecutionProvider" in wanted:
        _preload_cuda()
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: ORT's own warnings go to stderr, bypassing logging
    if threads is not None:
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(source, sess_options=options, providers=wanted)
    except ORT_ERRORS as exc:
        raise EngineError(f"{label}: ONNX Runtime cannot load this model ({_first_line(exc)})") from exc
    got = list(session.get_providers())
    log.info("ONNX Runtime session for %s runs on %s", short, ", ".join(got))
    if "CUDAExecutionProvider" in wanted and "CUDAExecutionProvider" not in got:
        log.warning(
            "%s: CUDA was asked for but ONNX Runtime runs it on %s (CUDA/cuDNN libraries missing?)",
            short, ", ".join(got),
        )
    return session


def _preload_cuda() -> None:
    # onnxruntime-gpu >= 1.21 can load CUDA/cuDNN from the nvidia-* pip wheels; without
    # this, a pip-only CUDA install is not found and ORT falls back to CPU.
    preload = getattr(ort, "preload_dlls", None)
    if callable(preload):
        try:
            preload()
        except (OSError, RuntimeError) as exc:
            log.warning("could not preload CUDA libraries for ONNX Runtime: %s", _first_line(exc))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
