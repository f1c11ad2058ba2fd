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
from vidiplug.media.probe import MediaInfo, check_readable

# Larger images are refused instead of risking a decompression bomb (about 16k x 16k).
MAX_IMAGE_PIXELS = 16384 * 16384


def load_image(path: Path) -> NDArray[np.uint8]:
    """The image at ``path`` as upright RGB uint8 (H, W, 3); alpha is composited on white.

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
                upright = ImageOps.exif_transpose(opened)
                return to_rgb_array(upright)
    except MediaError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError(str(path), f"not a readable image ({exc})") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise MediaError(str(path), f"image is corrupt or truncated ({exc})") from exc


def to_rgb_array(image: Image.Image) -> NDArray[np.uint8]:
    """A Pillow image as RGB uint8 (H, W, 3), compositing any transparency on white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def probe_image(path: Path) -> MediaInfo:
    """MediaInfo of a still image (duration 0, fps 0), or MediaError naming the file."""
    array = load_image(path)
    return MediaInfo(
        path=str(path),
        duration_s=0.0,
        fps=0.0,
        width=int(array.shape[1]),
        height=int(array.shape[0]),
        rotation_deg=0,
        is_image=True,
        frame_rate=None,
    )
