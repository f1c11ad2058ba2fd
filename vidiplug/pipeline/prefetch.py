"""Run an iterator in a background thread, a few items ahead of its consumer.

Decoding (PyAV) and face work (dlib, ONNX Runtime) release the GIL, so a decode thread
overlaps with detection and embedding on a multi-core machine.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class _End:
    error: BaseException | None


@dataclass(frozen=True)
class _Item(Generic[T]):
    value: T


def prefetch(source: Iterator[T], depth: int = 2, name: str = "prefetch") -> Iterator[T]:
    """Yield ``source``'s items, produced by a background thread at most ``depth`` ahead.

    Exceptions raised by ``source`` are re-raised in the consumer. When the consumer stops
    early (break, error, close), the producer stops at its next item and ``source`` is closed.
    """
    channel: queue.Queue[_Item[T] | _End] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def offer(entry: _Item[T] | _End) -> bool:
        while not stop.is_set():
            try:
                channel.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for value in source:
                if not offer(_Item(value)):
                    return
            offer(_End(None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            offer(_End(exc))

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            entry = channel.get()
            if isinstance(entry, _End):
                if entry.error is not None:
                    raise entry.error
                return
            yield entry.value
    finally:
        stop.set()
        worker.join()
        close = getattr(source, "close", None)
        if close is not None:
            close()
