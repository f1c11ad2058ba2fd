"""Sampled frames of a video with their true presentation times, decoding only what sampling needs.

Catches PyAV's exceptions (as MediaError) and nothing else's; imports nothing above media/.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Literal

import av
import av.error
import numpy as np
from numpy.typing import NDArray

from vidiplug.errors import MediaError
from vidiplug.media.probe import MediaInfo, check_readable, stream_rotation_deg

MAX_FRAME_SIDE_PX = 16384
NEAR_TARGET_S = 0.3  # decode every frame from this long before a sampling time


@dataclass(frozen=True, eq=False)
class Frame:
    """One sampled picture.

    ``index`` counts sampled frames from 0; ``time_s`` is the frame's true presentation
    time in seconds from the start of the stream; ``image`` is RGB uint8 (H, W, 3),
    already rotated upright.
    """

    index: int
    time_s: float
    image: NDArray[np.uint8]


@dataclass
class DecodeStats:
    """What the sampler did: packets demuxed, packets sent to the decoder, frames decoded."""

    packets: int = 0
    packets_decoded: int = 0
    frames_decoded: int = 0


def keyframe_times(path: Path) -> list[float]:
    """Presentation times (seconds from stream start) of the video's keyframes, from a demux-only pass."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            base = _time_base(stream)
            start = stream.start_time or 0
            times = [
                float((packet.pts - start) * base)
                for packet in container.demux(stream)
                if packet.is_keyframe and packet.pts is not None
            ]
    except (av.error.FFmpegError, IndexError) as exc:
        raise MediaError(str(path), f"cannot be demuxed ({exc})") from exc
    return sorted(times)


def sample_frames(
    path: Path,
    interval_s: float,
    *,
    info: MediaInfo | None = None,
    stats: DecodeStats | None = None,
) -> Iterator[Frame]:
    """Yield the first frame at or after every multiple of ``interval_s`` seconds.

    Packets between one sample and the keyframe that leads to the next sample are
    demuxed but never decoded, so a long interval on a clip with short GOPs costs close
    to a keyframe-only decode, and a short interval costs no more than decoding
    everything. Frame times are the true presentation times, relative to the stream's
    start. Raises MediaError naming the file when it cannot be opened or decoded.
    """
    if interval_s <= 0:
        raise ValueError("interval_s must be positive")
    check_readable(path)
    keyframes = keyframe_times(path)
    stats = stats if stats is not None else DecodeStats()
    try:
        yield from _decode_samples(path, interval_s, keyframes, info, stats)
    except av.error.FFmpegError as exc:
        raise MediaError(str(path), f"decoding failed ({exc})") from exc


def _decode_samples(
    path: Path,
    interval_s: float,
    keyframes: list[float],
    info: MediaInfo | None,
    stats: DecodeStats,
) -> Iterator[Frame]:
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise MediaError(str(path), "no video stream")
        stream = container.streams.video[0]
        stream.thread_type = decode_threading()
        base = _time_base(stream)
        start = stream.start_time or 0
        rotation = info.rotation_deg if info is not None else stream_rotation_deg(stream)
        half_frame_s = 0.5 / float(stream.average_rate) if stream.average_rate else 0.0
        target_index = 0
        decoding_from: float | None = None  # keyframe time we are decoding from, None = skipping
        last_fed_key_s = float("-inf")  # latest keyframe already sent to the decoder
        sample_index = 0

        def needed_keyframe(target_s: float) -> float:
            pos = bisect.bisect_right(keyframes, target_s + half_frame_s) - 1
            return keyframes[pos] if pos >= 0 else (keyframes[0] if keyframes else 0.0)

        wanted_key = needed_keyframe(0.0)
        drained = False
        skip_mode: Literal["DEFAULT", "NONREF"] = "DEFAULT"
        for packet in container.demux(stream):
            stats.packets += 1
            if packet.size == 0 and packet.pts is None:
                if decoding_from is None:
                    continue
                drained = True
                frames = stream.codec_context.decode(None)
            else:
                packet_s = float((packet.pts - start) * base) if packet.pts is not None else None
                if decoding_from is None:
                    if not (packet.is_keyframe and packet_s is not None and packet_s >= wanted_key - 1e-6):
                        continue
                    stream.codec_context.flush_buffers()
                    decoding_from = packet_s
                if packet.is_keyframe and packet_s is not None:
                    last_fed_key_s = max(last_fed_key_s, packet_s)
                # Far from the next sampling time, frames nothing refers to need not be
                # decoded at all; near it, decode everything so the exact frame is found.
                near = packet_s is None or packet_s >= target_index * interval_s - NEAR_TARGET_S
                mode: Literal["DEFAULT", "NONREF"] = "DEFAULT" if near else "NONREF"
                if mode != skip_mode:
                    stream.codec_context.skip_frame = mode
                    skip_mode = mode
                stats.packets_decoded += 1
                frames = stream.codec_context.decode(packet)
            for frame in frames:
                stats.frames_decoded += 1
                if frame.pts is None:
                    continue
                time_s = float((frame.pts - start) * base)
                target_s = target_index * interval_s
                if time_s + half_frame_s < target_s:
                    continue
                yield Frame(sample_index, max(0.0, time_s), _to_rgb(frame, rotation, path))
                sample_index += 1
                target_index = _next_target(target_index, time_s, half_frame_s, interval_s)
                key = needed_keyframe(target_index * interval_s)
                if decoding_from is not None and key > last_fed_key_s + 1e-6:
                    # The next sample is reachable only from a later keyframe: stop decoding here.
                    wanted_key = key
                    decoding_from = None
        if decoding_from is not None and not drained:
            for frame in stream.codec_context.decode(None):
                stats.frames_decoded += 1
                if frame.pts is None:
                    continue
                time_s = float((frame.pts - start) * base)
                if time_s + half_frame_s < target_index * interval_s:
                    continue
                yield Frame(sample_index, max(0.0, time_s), _to_rgb(frame, rotation, path))
                sample_index += 1
                target_index = _next_target(target_index, time_s, half_frame_s, interval_s)
        if sample_index == 0:
            raise MediaError(str(path), "no decodable video frames")


def decode_threading(cores: int | None = None) -> Literal["AUTO", "SLICE"]:
    """libavcodec threading for sampled decoding on a machine with ``cores`` (default: this one's).

    Decoding runs in its own thread beside detection threads. On a small machine those
    keep every core busy, and frame threading only adds work (measured on 2 cores: the
    same wall time, 50% more CPU); with cores to spare, frame threads shorten decoding.
    """
    cores = cores if cores is not None else (os.cpu_count() or 1)
    return "AUTO" if cores > 4 else "SLICE"


def _next_target(current: int, time_s: float, half_frame_s: float, interval_s: float) -> int:
    """Index of the next sampling time after a frame shown at ``time_s`` served ``current``."""
    return max(current + 1, int((time_s + half_frame_s) // interval_s) + 1)


def _to_rgb(frame: av.VideoFrame, rotation_deg: int, path: Path) -> NDArray[np.uint8]:
    if frame.width > MAX_FRAME_SIDE_PX or frame.height > MAX_FRAME_SIDE_PX:
        raise MediaError(str(path), f"frame size {frame.width}x{frame.height} exceeds {MAX_FRAME_SIDE_PX} px")
    image: NDArray[np.uint8] = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
    # PyAV >= 14 reads the display matrix per frame (counter-clockwise degrees).
    rotation = getattr(frame, "rotation", None)
    degrees = (-int(rotation)) % 360 if rotation else rotation_deg
    return upright(image, degrees)


def upright(image: NDArray[np.uint8], clockwise_deg: int) -> NDArray[np.uint8]:
    """``image`` turned ``clockwise_deg`` (a multiple of 90) clockwise, as displayed."""
    quarter_turns = (clockwise_deg // 90) % 4
    if not quarter_turns:
        return image
    # np.rot90 turns counter-clockwise, so a clockwise turn is a negative k.
    return np.ascontiguousarray(np.rot90(image, k=-quarter_turns))


def _time_base(stream: av.video.stream.VideoStream) -> Fraction:
    if stream.time_base is None:
        return Fraction(1, 90000)
    return Fraction(stream.time_base.numerator, stream.time_base.denominator)
