from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from vidiplug.media import iter_media_frames, load_image, probe_media
from vidiplug.media.frames import sample_frames
from vidiplug.media.pixels import UHD_PIXELS, held_size


@pytest.mark.parametrize(
    ("size", "held"),
    [((1920, 1080), (1920, 1080)), ((3840, 2160), (3840, 2160)), ((16000, 16000), (2880, 2880)),
     ((16000, 9000), (3840, 2160)), ((100_000, 100), (91_073, 91))],
)
def test_pictures_over_the_budget_are_held_at_most_that_many_pixels(size: tuple[int, int],
                                                                    held: tuple[int, int]) -> None:
    assert held_size(*size, UHD_PIXELS) == held
    assert held == size or held[0] * held[1] <= UHD_PIXELS


def _write_clip(path: Path, width: int, height: int) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(2):
            picture = np.zeros((height, width, 3), np.uint8)
            picture[:, : width // 2] = 200  # left half bright: survives scaling
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_decoder_scales_frames_over_the_budget_and_keeps_their_source_size(tmp_path: Path) -> None:
    clip = tmp_path / "wide.mp4"
    _write_clip(clip, 1600, 900)
    asked: list[tuple[int, int]] = []

    def luma_size(width: int, height: int) -> tuple[int, int]:
        asked.append((width, height))
        return width // 2, height // 2

    frames = list(sample_frames(clip, 1.0, luma_size=luma_size, max_pixels=400 * 225))

    assert [f.image.shape for f in frames] == [(225, 400, 3), (225, 400, 3)]
    assert [f.source_size for f in frames] == [(1600, 900), (1600, 900)]
    assert frames[0].scale == (0.25, 0.25)
    assert asked == [(400, 225)] and frames[0].luma is not None and frames[0].luma.shape == (112, 200)
    assert frames[0].image[:, :190].min() > 150 and frames[0].image[:, 210:].max() < 50


def test_frames_within_the_budget_are_held_as_decoded(tmp_path: Path) -> None:
    clip = tmp_path / "small.mp4"
    _write_clip(clip, 320, 240)

    scaled = list(sample_frames(clip, 1.0, max_pixels=UHD_PIXELS))
    plain = list(sample_frames(clip, 1.0))

    assert all(f.source_size is None and f.scale == (1.0, 1.0) for f in scaled)
    assert all(np.array_equal(a.image, b.image) for a, b in zip(scaled, plain))


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_large_image_is_loaded_within_the_budget(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"large{suffix}"
    Image.new("RGB", (4000, 2000), (200, 30, 30)).save(path)

    image = load_image(path, max_pixels=1000 * 500)
    info = probe_media(path)
    frame = next(iter_media_frames(path, info, 1.0, max_pixels=1000 * 500))

    assert image.shape == (500, 1000, 3)
    assert abs(int(image[250, 500, 0]) - 200) <= 3
    assert (info.width, info.height) == (4000, 2000)
    assert frame.source_size == (4000, 2000) and frame.image.shape == (500, 1000, 3)


def test_probe_reports_the_upright_size_of_a_turned_photo(tmp_path: Path) -> None:
    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned a quarter clockwise
    Image.new("RGB", (300, 200), (10, 20, 30)).save(path, exif=exif)

    info = probe_media(path)

    assert (info.width, info.height) == (200, 300)
    assert load_image(path).shape == (300, 200, 3)
