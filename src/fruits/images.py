"""Image decoding shared by the featurization UDF, the report, the previews and ``fruits identify``: bytes in,
upright RGB pixels out, or a reject; the same guards (decompression bomb, corrupt data) wherever an image is opened.

HEIC/HEIF (iPhones' default format) is decoded by pillow-heif, registered with Pillow by the first decode of each
process: Spark's Python workers included, whatever they imported before.
"""

from __future__ import annotations

import functools
import io
import struct

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from fruits.rejects import ImageRejected, RejectKind

# White, because Fruits-360 photographs fruit on a white background: transparent pixels become background.
BACKGROUND = (255, 255, 255)
# A JPEG is decoded at the smallest 1/2, 1/4 or 1/8 scale that keeps both sides >= this many times the target:
# a 12 MP photo costs about what a small image costs, and the 224² result barely moves (README, "Performance").
DRAFT_MARGIN = 2
# The side, in pixels, of every picture of an image in the report and the previews.
THUMBNAIL = 96
PLACEHOLDER = (235, 235, 235)  # light grey: the tile of a file that cannot be shown


@functools.cache
def register_heif() -> None:
    """Teach Pillow to open HEIC/HEIF files (once per process)."""
    from pillow_heif import register_heif_opener  # noqa: PLC0415 - its native library loads on the first decode

    register_heif_opener()


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode (L, LA, P, RGBA, CMYK, I;16...) to RGB, flattening transparency onto white.

    16-bit and float grayscale are rescaled to 8 bits first: Pillow's own conversion clips them to white.
    """
    if image.mode.startswith("I") or image.mode == "F":
        scale = 1.0 if image.mode == "F" else 257.0
        pixels = np.clip(np.asarray(image, dtype=np.float32) / scale, 0, 255).astype(np.uint8)
        return Image.fromarray(pixels, mode="L").convert("RGB")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def decode_picture(content: bytes | None, size: int, *, draft_margin: int | None = DRAFT_MARGIN,
                   keep_aspect: bool = False) -> Image.Image:
    """Decode image bytes into an upright RGB picture, ``size``×``size`` (the network's input) or, with
    ``keep_aspect``, within that square (a thumbnail).

    Phones store photos sideways with an EXIF orientation tag: it is applied before resizing. Large JPEGs are
    decoded at a reduced scale (Pillow's draft mode; ``draft_margin=None`` decodes every pixel).

    Raises ImageRejected with its kind for empty, truncated, oversized or non-image content.
    """
    if not content:
        raise ImageRejected(RejectKind.EMPTY_FILE)
    register_heif()
    try:
        with Image.open(io.BytesIO(content)) as image:
            if draft_margin is not None:
                image.draft("RGB", (size * draft_margin, size * draft_margin))
            rgb = to_rgb(ImageOps.exif_transpose(image))
            if not keep_aspect:
                return rgb.resize((size, size), Image.Resampling.BILINEAR)
            rgb.thumbnail((size, size))
            return rgb
    except UnidentifiedImageError as error:
        raise ImageRejected(RejectKind.NOT_AN_IMAGE) from error
    except Image.DecompressionBombError as error:
        raise ImageRejected(RejectKind.TOO_MANY_PIXELS, f"decompression bomb guard: {error}") from error
    # Malformed files make Pillow raise any of these (its fuzzers list them); each is one reject, not a failed job.
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error) as error:
        raise ImageRejected(RejectKind.CORRUPT_IMAGE, str(error)) from error


def decode_image(content: bytes | None, size: int, draft_margin: int | None = DRAFT_MARGIN) -> np.ndarray:
    """Decode image bytes into upright ``size``×``size``×3 RGB pixels (uint8), as :func:`decode_picture` does.

    Pixels stay 8-bit: the model's scaling runs once per batch, straight into the engine's input buffer
    (``engines.to_model_input``).
    """
    return np.asarray(decode_picture(content, size, draft_margin=draft_margin), dtype=np.uint8)


def thumbnail(content: bytes | Exception | None, size: int = THUMBNAIL) -> Image.Image | None:
    """A small upright picture of a file for the report or a preview, decoded with the featurization's guards;
    None when it cannot be shown (unreadable, not an image, a decompression bomb): a bad file never stops a page."""
    if isinstance(content, Exception):
        return None
    try:
        return decode_picture(content, size, keep_aspect=True)
    except ImageRejected:
        return None


def placeholder(size: int = THUMBNAIL) -> Image.Image:
    """The tile shown in place of a file that cannot be shown."""
    return Image.new("RGB", (size, size), PLACEHOLDER)
