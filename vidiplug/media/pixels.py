"""Pixel budgets: the largest picture the media room decodes, and the size it holds a picture at.

Pure arithmetic; imports nothing from vidiplug.
"""

from __future__ import annotations

import math

# Larger pictures are refused before they are decoded: a decoder holds several frames of
# this size itself (one 16384 x 16384 yuv420p frame is 400 MB), whatever we keep of them.
MAX_SOURCE_PIXELS = 16384 * 16384
# 4K UHD. Media up to this size is held as decoded, so analysis of ordinary media
# (<= 1080p, 4K) is unchanged; larger pictures are scaled down to this many pixels.
UHD_PIXELS = 3840 * 2160


def held_size(width: int, height: int, max_pixels: int | None) -> tuple[int, int]:
    """(width, height) a ``width`` x ``height`` picture is held at: itself when within ``max_pixels``, else scaled down.

    The aspect ratio is kept (rounded down to whole pixels, at least 1 px a side), so the
    result has at most ``max_pixels`` pixels. ``max_pixels`` None holds every picture at
    its own size.
    """
    if max_pixels is None or width * height <= max_pixels:
        return width, height
    scale = math.sqrt(max_pixels / (width * height))
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
