"""Image decoding shared by the featurization UDF and its tests: bytes in, upright 224² RGB pixels out."""

from __future__ import annotations

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


def decode_image(content: bytes | None, size: int, draft_margin: int | None = DRAFT_MARGIN) -> np.ndarray:
    """Decode image bytes into upright ``size``×``size``×3 RGB pixels (uint8).

    Phones store photos sideways with an EXIF orientation tag: it is applied before resizing. Large JPEGs are
    decoded at a reduced scale (Pillow's draft mode; ``draft_margin=None`` decodes every pixel). Pixels stay 8-bit:
    the model's scaling runs once per batch, straight into the engine's input buffer (``engines.to_model_input``).

    Raises ImageRejected with its kind for empty, truncated, oversized or non-image content.
    """
    if not content:
        raise ImageRejected(RejectKind.EMPTY_FILE)
    try:
        with Image.open(io.BytesIO(content)) as image:
            if draft_margin is not None:
                image.draft("RGB", (size * draft_margin, size * draft_margin))
            upright = ImageOps.exif_transpose(image)
            rgb = to_rgb(upright).resize((size, size), Image.Resampling.BILINEAR)
    except UnidentifiedImageError as error:
        raise ImageRejected(RejectKind.NOT_AN_IMAGE) from error
    except Image.DecompressionBombError as error:
        raise ImageRejected(RejectKind.TOO_MANY_PIXELS, f"decompression bomb guard: {error}") from error
    # Malformed files make Pillow raise any of these (its fuzzers list them); each is one reject, not a failed job.
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error) as error:
        raise ImageRejected(RejectKind.CORRUPT_IMAGE, str(error)) from error
    return np.asarray(rgb, dtype=np.uint8)
