"""Sampled frames of a video with their true presentation times, decoding only what sampling needs.

Catches PyAV's exceptions (as MediaError) and nothing else's; imports nothing above media/.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import av.error
import numpy as np
from numpy.typing import NDArray

from vidiplug.errors import MediaError
from vidiplug.media.pixels import MAX_SOURCE_PIXELS, held_size
from vidiplug.media.probe import MediaInfo, check_readable, stream_rotation_deg

# Codecs whose packets carry exactly one frame each, stamped with that frame's own
# presentation time, so a frame's packet is known before decoding. (Not so MPEG-4 Part 2
# in AVI, for one: "packed B-frames" put two frames in one packet and a placeholder in
# the next.)
ONE_FRAME_PER_PACKET_CODECS = frozenset({"h264", "hevc", "av1", "vp8", "vp9"})
NEAR_TARGET_S = 0.3  # without frame times: decode every frame from this long before a sampling time
# A frame this much before a sampling time still counts as at it (half a frame period,
# for timestamps rounded down), but never more: the average rate of a file with frames far
# apart in time (0 s, 1 s, 1,000,000 s averages 3/1000001 fps) would make it days.
MAX_HALF_FRAME_S = 0.05


@dataclass(frozen=True, eq=False)
class Frame:
    """One sampled picture.

    ``index`` counts sampled frames from 0; ``time_s`` is the frame's true presentation
    time in seconds from the start of the stream; ``image`` is RGB uint8 (H, W, 3),
    already rotated upright. ``luma``, when asked for (see ``sample_frames``), is the same
    picture as grey uint8 at another size, made by the decoder's own scaler.
    ``source_size`` is the (width, height) of the picture as the file shows it (upright);
    ``image`` is smaller when the picture had more pixels than sampling was allowed to
    hold. None means ``image``'s own size.
    """

    index: int
    time_s: float
    image: NDArray[np.uint8]
    luma: NDArray[np.uint8] | None = None
    source_size: tuple[int, int] | None = None

    @property
    def scale(self) -> tuple[float, float]:
        """``image``'s pixels per source pixel along x and y: (1.0, 1.0) unless scaled down."""
        if self.source_size is None:
            return 1.0, 1.0
        return self.image.shape[1] / self.source_size[0], self.image.shape[0] / self.source_size[1]


# (display width, display height) -> (width, height) of the grey picture wanted, or None.
LumaSize = Callable[[int, int], tuple[int, int] | None]


@dataclass
class DecodeStats:
    """What the sampler did: packets demuxed, packets sent to the decoder, frames decoded."""

    packets: int = 0
    packets_decoded: int = 0
    frames_decoded: int = 0


@dataclass(frozen=True)
class StreamIndex:
    """What a demux-only pass learns: keyframe times and, when every packet has one, all frame times.

    Times are presentation times in seconds from the stream's start, sorted.
    ``frame_times`` is None when packets do not map one-to-one onto frames (see
    ONE_FRAME_PER_PACKET_CODECS) or some packet carries no presentation time: then which
    packet holds a given frame is unknown until it is decoded.
    """

    keyframes: list[float]
    frame_times: list[float] | None


def index_stream(path: Path) -> StreamIndex:
    """Keyframe and frame presentation times of the file's first video stream, from a demux-only pass."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            base = _time_base(stream)
            start = stream.start_time or 0
            keyframes: list[float] = []
            frames: list[float] | None = [] if stream.codec_context.name in ONE_FRAME_PER_PACKET_CODECS else None
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue  # the demuxer's end-of-stream marker
                if packet.pts is None:
                    frames = None
                    continue
                time_s = float((packet.pts - start) * base)
                if packet.is_keyframe:
                    keyframes.append(time_s)
                if frames is not None:
                    frames.append(time_s)
    except (av.error.FFmpegError, IndexError) as exc:
        raise MediaError(str(path), f"cannot be demuxed ({exc})") from exc
    return StreamIndex(sorted(keyframes), sorted(frames) if frames is not None else None)


def planned_sample_times(frame_times: list[float], interval_s: float, half_frame_s: float) -> list[float]:
    """Times of the frames sampling will pick: the first frame at or after each multiple of ``interval_s``.

    Mirrors the decoder loop's choice (a frame within half a frame period before a
    sampling time counts as at it), so the decoder can skip every other frame nothing
    refers to.
    """
    picked: list[float] = []
    target_index = 0
    pos = 0
    while True:
        target_s = target_index * interval_s
        pos = bisect.bisect_left(frame_times, target_s - half_frame_s, lo=pos)
        if pos >= len(frame_times):
            return picked
        time_s = frame_times[pos]
        picked.append(time_s)
        target_index = _next_target(target_index, time_s, half_frame_s, interval_s)


def sample_frames(
    path: Path,
    interval_s: float,
    *,
    info: MediaInfo | None = None,
    stats: DecodeStats | None = None,
    luma_size: LumaSize | None = None,
    max_pixels: int | None = None,
) -> Iterator[Frame]:
    """Yield the first frame at or after every multiple of ``interval_s`` seconds.

    With ``luma_size``, each frame also carries ``luma``: grey at the size that
    ``luma_size(width, height)`` returns for the frame's ``image`` (no luma when it
    returns None). The decoder's scaler makes it from the decoded planes, several times
    faster than converting and resizing the RGB picture afterwards (a face detector's input).

    With ``max_pixels``, a picture with more pixels is scaled down to that many by the
    decoder's scaler, straight from the decoded planes, so its full-size RGB picture is
    never made (a 16000 x 16000 RGB frame is 768 MB); ``Frame.source_size`` keeps the
    size it had. Pictures over MAX_SOURCE_PIXELS are refused before decoding.

    Packets between one sample and the keyframe that leads to the next sample are
    demuxed but never decoded, so a long interval on a clip with short GOPs costs close
    to a keyframe-only decode, and a short interval costs no more than decoding
    everything. Frame times are the true presentation times, relative to the stream's
    start. Raises MediaError naming the file when it cannot be opened or decoded.
    """
    if interval_s <= 0:
        raise ValueError("interval_s must be positive")
    check_readable(path)
    index = index_stream(path)
    stats = stats if stats is not None else DecodeStats()
    try:
        yield from _decode_samples(path, interval_s, index, info, stats, luma_size, max_pixels)
    except av.error.FFmpegError as exc:
        raise MediaError(str(path), f"decoding failed ({exc})") from exc


def _decode_samples(
    path: Path,
    interval_s: float,
    index: StreamIndex,
    info: MediaInfo | None,
    stats: DecodeStats,
    luma_size: LumaSize | None = None,
    max_pixels: int | None = None,
) -> Iterator[Frame]:
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise MediaError(str(path), "no video stream")
        stream = container.streams.video[0]
        coded_pixels = stream.codec_context.width * stream.codec_context.height
        _check_source_pixels(path, stream.codec_context.width, stream.codec_context.height)
        # Frame threads each hold a frame of their own: with frames larger than we hold,
        # slice threads keep the decoder's memory to its reference frames.
        large = max_pixels is not None and coded_pixels > max_pixels
        stream.thread_type = "SLICE" if large else decode_threading()
        base = _time_base(stream)
        start = stream.start_time or 0
        rotation = info.rotation_deg if info is not None else stream_rotation_deg(stream)
        half_frame_s = sampling_tolerance_s(stream.average_rate, stream.base_rate)
        keyframes = index.keyframes
        picture = _Picture(path, rotation, luma_size, max_pixels)
        # With every frame's time known, only the sampled frames and the frames others
        # refer to are decoded; otherwise everything near a sampling time is.
        planned = (
            {round(t, 6) for t in planned_sample_times(index.frame_times, interval_s, half_frame_s)}
            if index.frame_times is not None
            else None
        )
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
                # Frames nothing refers to need not be decoded unless sampling picks them.
                if planned is not None and packet_s is not None:
                    wanted = round(packet_s, 6) in planned
                else:
                    wanted = packet_s is None or packet_s >= target_index * interval_s - NEAR_TARGET_S
                mode: Literal["DEFAULT", "NONREF"] = "DEFAULT" if wanted else "NONREF"
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
                if planned is not None and round(time_s, 6) not in planned:
                    planned = None  # the stream broke the plan (a frame went missing): stop trusting it
                yield picture.frame(sample_index, max(0.0, time_s), frame)
                sample_index += 1
                if planned is not None and sample_index >= len(planned):
                    return  # every planned sample is out; the rest of the stream is not needed
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
                yield picture.frame(sample_index, max(0.0, time_s), frame)
                sample_index += 1
                target_index = _next_target(target_index, time_s, half_frame_s, interval_s)
        if sample_index == 0:
            raise MediaError(str(path), "no decodable video frames")


def sampling_tolerance_s(average_rate: Fraction | None, base_rate: Fraction | None = None) -> float:
    """Seconds a frame may come before a sampling time and still be taken for it.

    Half a frame period, so a frame stamped a rounding error early is not passed over.
    The period is that of the faster of ``average_rate`` and ``base_rate`` (FFmpeg's
    ``r_frame_rate``, frames per second): the average of variable-rate media or of a
    file with long pauses says little about how close its frames are. At most
    MAX_HALF_FRAME_S; 0 when neither rate is known and positive.
    """
    rates = [float(rate) for rate in (average_rate, base_rate) if rate is not None and rate > 0]
    if not rates:
        return 0.0
    return min(0.5 / max(rates), MAX_HALF_FRAME_S)


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


def _check_source_pixels(path: Path, width: int, height: int) -> None:
    if width * height > MAX_SOURCE_PIXELS:
        raise MediaError(
            str(path),
            f"frame size {width}x{height} is {width * height} pixels, more than the {MAX_SOURCE_PIXELS} allowed",
        )


class _Picture:
    """Turns decoded frames into upright Frames: RGB within the pixel budget, plus grey at the asked size when asked."""

    def __init__(
        self, path: Path, rotation_deg: int, luma_size: LumaSize | None, max_pixels: int | None = None
    ) -> None:
        self._path = path
        self._rotation_deg = rotation_deg
        self._luma_size = luma_size
        self._max_pixels = max_pixels
        self._luma_for: dict[tuple[int, int, int], tuple[int, int] | None] = {}

    def frame(self, index: int, time_s: float, frame: av.VideoFrame) -> Frame:
        _check_source_pixels(self._path, frame.width, frame.height)
        # PyAV >= 14 reads the display matrix per frame (counter-clockwise degrees).
        rotation = getattr(frame, "rotation", None)
        degrees = (-int(rotation)) % 360 if rotation else self._rotation_deg
        width, height = held_size(frame.width, frame.height, self._max_pixels)
        if (width, height) == (frame.width, frame.height):
            image: NDArray[np.uint8] = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
        else:
            # The scaler reads the decoded planes and writes only the small RGB picture.
            small = frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA")
            image = np.asarray(small.to_ndarray(), dtype=np.uint8)
        turned = (degrees // 90) % 2 == 1
        source = (frame.height, frame.width) if turned else (frame.width, frame.height)
        held = (height, width) if turned else (width, height)
        return Frame(
            index, time_s, upright(image, degrees), self._luma(frame, held, degrees),
            source_size=source if held != source else None,
        )

    def _luma(self, frame: av.VideoFrame, held: tuple[int, int], degrees: int) -> NDArray[np.uint8] | None:
        if self._luma_size is None:
            return None
        turned = (degrees // 90) % 2 == 1
        key = (held[0], held[1], degrees)
        if key not in self._luma_for:
            self._luma_for[key] = self._luma_size(*held)
        size = self._luma_for[key]
        if size is None:
            return None
        width, height = (size[1], size[0]) if turned else size  # scale in coded orientation, then turn
        grey = frame.reformat(width=width, height=height, format="gray", interpolation="BILINEAR")
        return upright(np.asarray(grey.to_ndarray(), dtype=np.uint8), degrees)


def upright(image: NDArray[np.uint8], clockwise_deg: int) -> NDArray[np.uint8]:
    """``image`` (H, W) or (H, W, C) turned ``clockwise_deg`` (a multiple of 90) clockwise, as displayed."""
    quarter_turns = (clockwise_deg // 90) % 4
    if not quarter_turns:
        return image
    # np.rot90 turns counter-clockwise, so a clockwise turn is a negative k.
    return np.ascontiguousarray(np.rot90(image, k=-quarter_turns))


def _time_base(stream: av.video.stream.VideoStream) -> Fraction:
    if stream.time_base is None:
        return Fraction(1, 90000)
    return Fraction(stream.time_base.numerator, stream.time_base.denominator)
