"""Still images as one-frame media: EXIF orientation applied, RGB uint8.

Catches Pillow's exceptions (as MediaError) and nothing else's; imports nothing above media/.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from vidiplug.errors import MediaError
from vidiplug.media.pixels import MAX_SOURCE_PIXELS, held_size
from vidiplug.media.probe import MediaInfo, check_readable

# Larger images are refused instead of risking a decompression bomb (about 16k x 16k);
# Pillow's own bomb check (as an error, here) already refuses those over ~89.5 MP.
MAX_IMAGE_PIXELS = MAX_SOURCE_PIXELS
PROBE_PIXELS = 640 * 480  # a probe decodes the image to find a corrupt file, at this size
_EXIF_ORIENTATION = 0x0112
_QUARTER_TURN_ORIENTATIONS = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height


def load_image(path: Path, max_pixels: int | None = None) -> NDArray[np.uint8]:
    """The image at ``path`` as upright RGB uint8 (H, W, 3); alpha is composited on white.

    With ``max_pixels``, an image with more pixels is scaled down to that many (aspect
    kept). A JPEG is then decoded at 1/2, 1/4 or 1/8 of its size by the decoder itself
    (Pillow's ``draft``), so its full-size picture is never made; other formats are
    decoded once at full size and reduced before any copy is made.

    Raises MediaError naming the file when it is missing, not an image, truncated or
    larger than MAX_IMAGE_PIXELS.
    """
    check_readable(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                if opened.width * opened.height > MAX_IMAGE_PIXELS:
                    raise MediaError(str(path), f"image is {opened.width}x{opened.height} pixels, too large")
                upright = ImageOps.exif_transpose(_reduced(opened, max_pixels))
                return to_rgb_array(upright)
    except MediaError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError(str(path), f"not a readable image ({exc})") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise MediaError(str(path), f"image is corrupt or truncated ({exc})") from exc


def _reduced(opened: Image.Image, max_pixels: int | None) -> Image.Image:
    """``opened`` at most ``max_pixels`` pixels large (itself when it already is), decoded."""
    width, height = held_size(opened.width, opened.height, max_pixels)
    if (width, height) == (opened.width, opened.height):
        return opened
    if opened.format == "JPEG":
        # Asks libjpeg for the smallest 1/2, 1/4, 1/8 scale still at least this large.
        opened.draft(opened.mode if opened.mode in ("RGB", "L") else None, (width, height))
    # reducing_gap 1: an integer box reduction first (Pillow holds RGB at 4 bytes a pixel,
    # so resizing 89 MP in one go would add a 2880 x 9450 intermediate: 109 MB), then
    # the exact resize from a picture at most twice the target's side.
    return opened.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=1.0)


def to_rgb_array(image: Image.Image) -> NDArray[np.uint8]:
    """A Pillow image as RGB uint8 (H, W, 3), compositing any transparency on white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def probe_image(path: Path) -> MediaInfo:
    """MediaInfo of a still image (duration 0, fps 0), or MediaError naming the file.

    Decodes the whole image once to find a corrupt file early, but at a small size (see
    ``load_image``); the size reported is the full upright size.
    """
    load_image(path, max_pixels=PROBE_PIXELS)
    check_readable(path)
    try:
        with Image.open(path) as opened:
            width, height = opened.size
            if opened.getexif().get(_EXIF_ORIENTATION, 1) in _QUARTER_TURN_ORIENTATIONS:
                width, height = height, width
    except (OSError, ValueError, SyntaxError, UnidentifiedImageError) as exc:
        raise MediaError(str(path), f"not a readable image ({exc})") from exc
    return MediaInfo(
        path=str(path),
        duration_s=0.0,
        fps=0.0,
        width=width,
        height=height,
        rotation_deg=0,
        is_image=True,
        frame_rate=None,
    )
