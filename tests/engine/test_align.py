from __future__ import annotations

import math

import numpy as np
import pytest

from vidiplug.engine.align import ARCFACE_TEMPLATE, estimate_similarity, norm_crop, pad_for_detection
from vidiplug.errors import EngineError


def _similarity(angle_deg: float, scale: float, tx: float, ty: float) -> np.ndarray:
    a = math.radians(angle_deg)
    return np.array([[scale * math.cos(a), -scale * math.sin(a), tx], [scale * math.sin(a), scale * math.cos(a), ty]])


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    moved: np.ndarray = points @ matrix[:, :2].T + matrix[:, 2]
    return moved


def test_estimate_similarity_recovers_rotation_scale_and_translation() -> None:
    truth = _similarity(25.0, 1.7, 40.0, -12.5)
    src = ARCFACE_TEMPLATE.astype(np.float64)

    fitted = estimate_similarity(src, _apply(truth, src))

    assert fitted.shape == (2, 3) and fitted.dtype == np.float32
    np.testing.assert_allclose(fitted, truth, atol=1e-4)


def test_estimate_similarity_is_the_least_squares_fit_of_noisy_points() -> None:
    src = np.random.default_rng(1).uniform(0, 200, size=(40, 2))
    dst = _apply(_similarity(-10.0, 0.5, 3.0, 7.0), src) + np.random.default_rng(2).normal(0, 0.5, size=(40, 2))
    # x' = a x - b y + tx, y' = b x + a y + ty is linear in (a, b, tx, ty): solve it directly.
    rows = np.vstack([np.column_stack([src[:, 0], -src[:, 1], np.ones(40), np.zeros(40)]),
                      np.column_stack([src[:, 1], src[:, 0], np.zeros(40), np.ones(40)])])
    (a, b, tx, ty), *_ = np.linalg.lstsq(rows, np.concatenate([dst[:, 0], dst[:, 1]]), rcond=None)

    fitted = estimate_similarity(src, dst)

    np.testing.assert_allclose(fitted, [[a, -b, tx], [b, a, ty]], atol=1e-4)


def test_estimate_similarity_rejects_coincident_points() -> None:
    with pytest.raises(EngineError, match="one point"):
        estimate_similarity(np.ones((5, 2)), ARCFACE_TEMPLATE)


def test_norm_crop_puts_the_landmarks_on_the_arcface_template() -> None:
    truth = _similarity(15.0, 2.5, 150.0, 90.0)  # template -> where the face sits in the frame
    landmarks = _apply(truth, ARCFACE_TEMPLATE.astype(np.float64))
    yy, xx = np.mgrid[0:480, 0:640]
    image = np.zeros((480, 640, 3), dtype=np.uint8)
    for x, y in landmarks:
        image[(xx - x) ** 2 + (yy - y) ** 2 <= 5.0**2] = 255

    crop = norm_crop(image, landmarks)

    assert crop.shape == (112, 112, 3) and crop.dtype == np.uint8
    cy, cx = np.mgrid[0:112, 0:112]
    weight = crop[:, :, 1].astype(np.float64)
    for expected_x, expected_y in ARCFACE_TEMPLATE:
        near = ((cx - expected_x) ** 2 + (cy - expected_y) ** 2 <= 7.0**2) * weight  # dots are >= 14 px apart
        centroid = (float((near * cx).sum() / near.sum()), float((near * cy).sum() / near.sum()))
        np.testing.assert_allclose(centroid, (expected_x, expected_y), atol=0.5)


def test_norm_crop_scales_the_template_for_bigger_crops() -> None:
    landmarks = ARCFACE_TEMPLATE * 2.0
    image = np.zeros((224, 224, 3), dtype=np.uint8)
    image[100:120, 60:80] = 255

    crop = norm_crop(image, landmarks, size=224)

    np.testing.assert_array_equal(crop, image)


def test_norm_crop_rejects_sizes_that_are_not_multiples_of_112() -> None:
    with pytest.raises(EngineError, match="multiple of 112"):
        norm_crop(np.zeros((10, 10, 3), np.uint8), ARCFACE_TEMPLATE, size=100)


def test_constant_padding_surrounds_the_image_with_its_mean_colour() -> None:
    image = np.zeros((40, 30, 3), dtype=np.uint8)
    image[:, :, 0] = 200
    image[:20, :, 1] = 100

    padded, (off_x, off_y) = pad_for_detection(image, 0.5)

    assert (off_x, off_y) == (15, 20) and padded.shape == (80, 60, 3)
    np.testing.assert_array_equal(padded[off_y : off_y + 40, off_x : off_x + 30], image)
    np.testing.assert_array_equal(padded[0, 0], (200, 50, 0))


def test_reflect_padding_mirrors_the_image_into_the_border() -> None:
    image = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)

    padded, (off_x, off_y) = pad_for_detection(image, 0.5, mode="reflect")

    assert (off_x, off_y) == (3, 2)
    np.testing.assert_array_equal(padded[off_y, off_x - 1], image[0, 1])
    np.testing.assert_array_equal(padded[off_y - 1, off_x], image[1, 0])
