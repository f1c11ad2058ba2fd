from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vidiplug.errors import MediaError
from vidiplug.media import DecodeStats, iter_media_frames, load_image, probe_media
from vidiplug.media.frames import sample_frames


def test_samples_carry_true_times_one_interval_apart(hamilton_clip: Path) -> None:
    times = [frame.time_s for frame in sample_frames(hamilton_clip, 1.0)]

    assert len(times) == 10
    for i, time_s in enumerate(times):
        assert abs(time_s - i) < 1 / 29.97


def test_half_second_interval_samples_twice_as_often(hamilton_clip: Path) -> None:
    times = [frame.time_s for frame in sample_frames(hamilton_clip, 0.5)]

    assert len(times) == 20 or len(times) == 19
    assert np.all(np.diff(times) > 0.45)


def test_long_interval_decodes_fewer_packets_than_the_clip_has(hamilton_clip: Path) -> None:
    stats = DecodeStats()

    frames = list(sample_frames(hamilton_clip, 3.0, stats=stats))

    assert [round(f.time_s) for f in frames] == [0, 3, 6, 9]
    assert stats.packets_decoded < 0.6 * stats.packets


def test_frames_are_rgb_at_display_size(hamilton_clip: Path) -> None:
    info = probe_media(hamilton_clip)

    frame = next(iter_media_frames(hamilton_clip, info, 1.0))

    assert (info.width, info.height) == (640, 360)
    assert frame.image.shape == (360, 640, 3) and frame.image.dtype == np.uint8
    assert abs(info.duration_s - 10.02) < 0.05 and abs(info.fps - 29.97) < 0.01


def test_portrait_video_keeps_portrait_shape(data_dir: Path) -> None:
    clip = data_dir / "liveportrait/assets/examples/source/s29.mp4"

    frame = next(sample_frames(clip, 1.0))

    assert frame.image.shape[0] > frame.image.shape[1]


def test_still_image_is_one_frame_media(data_dir: Path) -> None:
    photo = data_dir / "face_recognition/examples/obama.jpg"
    info = probe_media(photo)

    frames = list(iter_media_frames(photo, info, 1.0))

    assert info.is_image and info.duration_s == 0
    assert len(frames) == 1 and frames[0].time_s == 0.0
    assert frames[0].image.shape == (1137, 910, 3)


def test_exif_orientation_is_applied(tmp_path: Path, data_dir: Path) -> None:
    source = Image.open(data_dir / "face_recognition/examples/obama_small.jpg")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    rotated = tmp_path / "rotated.jpg"
    source.save(rotated, exif=exif)

    image = load_image(rotated)

    assert image.shape[:2] == (source.width, source.height)


def test_rgba_png_is_composited_to_rgb(data_dir: Path) -> None:
    image = load_image(data_dir / "face_recognition/tests/test_images/32bit.png")

    assert image.shape[2] == 3


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "empty"),
        (b"this is not a video at all" * 100, "cannot be decoded"),
    ],
)
def test_bad_files_raise_media_error_naming_the_file(tmp_path: Path, content: bytes, reason: str) -> None:
    bad = tmp_path / "broken clip.mp4"
    bad.write_bytes(content)

    with pytest.raises(MediaError) as caught:
        probe_media(bad)

    assert str(bad) in str(caught.value) and reason in str(caught.value)


def test_truncated_video_is_rejected(tmp_path: Path, hamilton_clip: Path) -> None:
    bad = tmp_path / "truncated.mp4"
    bad.write_bytes(hamilton_clip.read_bytes()[:4096])

    with pytest.raises(MediaError) as caught:
        list(sample_frames(bad, 1.0))

    assert "truncated.mp4" in str(caught.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="no such file"):
        probe_media(tmp_path / "nope.mp4")


def test_corrupt_image_is_rejected(tmp_path: Path, data_dir: Path) -> None:
    bad = tmp_path / "half.jpg"
    bad.write_bytes((data_dir / "face_recognition/examples/obama.jpg").read_bytes()[:2000])

    with pytest.raises(MediaError, match="half.jpg"):
        load_image(bad)


def test_rotation_turns_frames_clockwise() -> None:
    from vidiplug.media.frames import upright

    image = np.zeros((2, 3, 3), np.uint8)
    image[0, 0] = 255  # top-left marker

    turned = upright(image, 90)

    assert turned.shape == (3, 2, 3)
    assert turned[0, 1, 0] == 255  # top-left goes to top-right after a clockwise quarter turn
    assert upright(image, 0) is image
    assert upright(image, 180)[1, 2, 0] == 255


def test_frame_threads_only_with_cores_to_spare() -> None:
    from vidiplug.media.frames import decode_threading

    assert decode_threading(2) == "SLICE"  # detection threads already keep both cores busy
    assert decode_threading(16) == "AUTO"
