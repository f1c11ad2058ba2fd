"""dlib's face ResNet in a child process, because its Python binding holds the GIL.

A forward pass takes ~65 ms on one core and blocks every other thread of the process
(decoding, detection bookkeeping) for that long; in a child process it runs beside them.
The child is ``python -m vidiplug.engine.dlib_resnet MODEL`` speaking a tiny binary
protocol on its stdin/stdout. Imports nothing above engine/.
"""

from __future__ import annotations

import contextlib
import struct
import subprocess
import sys
import threading
import weakref
from collections.abc import Sequence
from typing import IO

import numpy as np
from numpy.typing import NDArray

from vidiplug.errors import EngineError

CHIP_PX = 150
CHIP_BYTES = CHIP_PX * CHIP_PX * 3
DIM = 128
HEADER = struct.Struct("<i")  # count of chips (request) or of vectors, -1 = error (reply)


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise EOFError("stream closed")
        data += chunk
    return bytes(data)


def serve(model_path: str, requests: IO[bytes], replies: IO[bytes]) -> None:
    """Child side: answer each request of n 150x150 RGB chips with n 128-D descriptors."""
    import dlib

    net = dlib.face_recognition_model_v1(model_path)
    replies.write(HEADER.pack(0))
    replies.flush()
    while True:
        try:
            (count,) = HEADER.unpack(_read_exact(requests, HEADER.size))
            raw = _read_exact(requests, count * CHIP_BYTES)
        except EOFError:
            return
        chips = np.frombuffer(raw, np.uint8).reshape(count, CHIP_PX, CHIP_PX, 3)
        try:
            rows = [np.asarray(net.compute_face_descriptor(np.ascontiguousarray(c)), np.float32) for c in chips]
        except RuntimeError as exc:
            message = str(exc).encode("utf-8", "replace")[:1000]
            replies.write(HEADER.pack(-1) + HEADER.pack(len(message)) + message)
        else:
            block = np.stack(rows).astype("<f4") if rows else np.zeros((0, DIM), "<f4")
            replies.write(HEADER.pack(count) + block.tobytes())
        replies.flush()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    if process.stdout is not None:
        process.stdout.close()


class ResNetProcess:
    """A persistent child process computing dlib face descriptors; one call at a time.

    Started on construction (about half a second: a fresh interpreter loads dlib and the
    22 MB model) and stopped by ``close()`` or when garbage-collected.
    """

    def __init__(self, model_path: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "vidiplug.engine.dlib_resnet", model_path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _stop, self._process)
        try:
            self._read(HEADER.size)
        except EngineError:
            self.close()
            raise

    def _read(self, size: int) -> bytes:
        assert self._process.stdout is not None  # always piped
        try:
            return _read_exact(self._process.stdout, size)
        except (EOFError, OSError) as exc:
            raise EngineError("dlib engine: the ResNet worker process died") from exc

    def compute(self, chips: Sequence[NDArray[np.uint8]]) -> NDArray[np.float32]:
        """Descriptors of aligned 150x150 RGB chips, shape (len(chips), 128)."""
        batch = (np.ascontiguousarray(np.stack(chips).astype(np.uint8)) if chips
                 else np.zeros((0, CHIP_PX, CHIP_PX, 3), np.uint8))
        if batch.shape[1:] != (CHIP_PX, CHIP_PX, 3):
            raise EngineError(f"dlib engine: chips must be {CHIP_PX}x{CHIP_PX} RGB, got {batch.shape[1:]}")
        with self._lock:
            assert self._process.stdin is not None  # always piped
            try:
                self._process.stdin.write(HEADER.pack(len(batch)) + batch.tobytes())
                self._process.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                raise EngineError("dlib engine: the ResNet worker process died") from exc
            (count,) = HEADER.unpack(self._read(HEADER.size))
            if count < 0:
                (length,) = HEADER.unpack(self._read(HEADER.size))
                raise EngineError(f"dlib engine: embedding failed ({self._read(length).decode('utf-8', 'replace')})")
            data = self._read(count * DIM * 4)
        return np.frombuffer(data, "<f4").reshape(count, DIM).astype(np.float32)

    def close(self) -> None:
        """Stop the child process (idempotent)."""
        self._finalizer()


if __name__ == "__main__":
    serve(sys.argv[1], sys.stdin.buffer, sys.stdout.buffer)
