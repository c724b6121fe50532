import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from devkit.paths import MINI_SET
from fruits.images import PLACEHOLDER, THUMBNAIL, decode_image, placeholder, thumbnail
from fruits.rejects import ImageRejected, RejectKind
from tests.support.images import decompression_bomb


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def real_jpeg() -> bytes:
    return (MINI_SET / "Banana" / "12_100.jpg").read_bytes()


def test_real_jpeg_becomes_rgb_pixels(real_jpeg):
    array = decode_image(real_jpeg, 224)
    assert array.shape == (224, 224, 3)
    assert array.dtype == np.uint8
    assert array.min() < 100 and array.max() > 200  # a fruit on a white background


def test_an_iphone_heic_photo_is_decoded_upright_like_a_jpeg(real_jpeg):
    from pillow_heif import from_pillow  # noqa: PLC0415 - writes the HEIC an iPhone would store

    upright = Image.open(io.BytesIO(real_jpeg))
    buffer = io.BytesIO()
    from_pillow(upright).save(buffer, quality=95)
    heic = buffer.getvalue()
    assert heic[4:12] == b"ftypheic"
    pixels = decode_image(heic, 64).astype(np.int16)
    assert np.abs(pixels - decode_image(real_jpeg, 64).astype(np.int16)).mean() < 6
    assert thumbnail(heic).size == thumbnail(real_jpeg).size


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK", "I;16", "LA"])
def test_every_colour_mode_becomes_three_channels(mode):
    image = Image.new("RGB", (50, 40), (200, 30, 30)).convert(mode)
    fmt = "JPEG" if mode in ("L", "CMYK") else "PNG"
    assert decode_image(encode(image, fmt), 32).shape == (32, 32, 3)


def test_sixteen_bit_grayscale_is_rescaled_not_clipped_to_white():
    ramp = np.tile(np.linspace(0, 65535, 64, dtype=np.uint16), (64, 1))
    array = decode_image(encode(Image.fromarray(ramp), "PNG"), 64)
    assert array.min() == 0
    assert array.max() >= 250
    assert abs(float(array.mean()) - 127.5) < 6  # a ramp averages to mid-grey, not white


def test_transparent_pixels_become_white_background():
    image = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    assert (decode_image(encode(image, "PNG"), 10) == 255).all()


def test_png_with_uppercase_extension_content_is_decoded(real_jpeg):
    png = encode(Image.open(io.BytesIO(real_jpeg)), "PNG")
    assert np.abs(decode_image(png, 64).astype(int) - decode_image(real_jpeg, 64)).max() <= 6


@pytest.mark.parametrize(
    ("content", "kind"),
    [(b"", RejectKind.EMPTY_FILE), (None, RejectKind.EMPTY_FILE), (b"not an image at all", RejectKind.NOT_AN_IMAGE)],
)
def test_unusable_content_is_rejected_with_its_kind(content, kind):
    with pytest.raises(ImageRejected) as rejected:
        decode_image(content, 32)
    assert (rejected.value.kind, rejected.value.detail, str(rejected.value)) == (kind, None, kind.value)


def test_truncated_jpeg_is_rejected_as_corrupt_with_pillows_message(real_jpeg):
    with pytest.raises(ImageRejected, match="^corrupt image: .*truncated") as rejected:
        decode_image(real_jpeg[: len(real_jpeg) // 2], 32)
    assert rejected.value.kind == RejectKind.CORRUPT_IMAGE and "truncated" in rejected.value.detail


def with_orientation(image: Image.Image, orientation: int) -> bytes:
    """How a phone stores a photo: the sensor's pixels plus an EXIF tag saying how to turn them upright."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95, exif=exif)
    return buffer.getvalue()


@pytest.mark.parametrize(("orientation", "stored"), [(6, Image.Transpose.ROTATE_90), (8, Image.Transpose.ROTATE_270),
                                                     (3, Image.Transpose.ROTATE_180)])
def test_exif_orientation_is_applied_before_resizing(real_jpeg, orientation, stored):
    upright = Image.open(io.BytesIO(real_jpeg)).convert("RGB").resize((300, 200))
    sideways = with_orientation(upright.transpose(stored), orientation)
    reference = decode_image(encode(upright, "PNG"), 64).astype(int)
    assert np.abs(decode_image(sideways, 64).astype(int) - reference).mean() < 4
    unturned = np.asarray(upright.transpose(stored).resize((64, 64)), dtype=int)
    assert np.abs(unturned - reference).mean() > 20  # the test image is not symmetric


def test_a_large_jpeg_is_decoded_at_reduced_scale_to_nearly_the_same_pixels(real_jpeg):
    large = Image.open(io.BytesIO(real_jpeg)).convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
    content = encode(large, "JPEG")
    full = np.asarray(large.resize((224, 224), Image.Resampling.BILINEAR), dtype=int)
    assert np.abs(decode_image(content, 224).astype(int) - full).mean() < 3


def test_a_decompression_bomb_is_rejected_with_its_kind_and_never_shown():
    bomb = decompression_bomb()
    assert len(bomb) < 100_000
    with pytest.raises(Image.DecompressionBombError):  # what Pillow alone does with it
        Image.open(io.BytesIO(bomb))
    with pytest.raises(ImageRejected) as rejected:
        decode_image(bomb, 32)
    assert rejected.value.kind == RejectKind.TOO_MANY_PIXELS and "400000000 pixels" in rejected.value.detail
    assert thumbnail(bomb) is None
    assert decode_image(decompression_bomb(side=300), 32).max() == 0  # the same file, smaller: a real black PNG


def test_a_thumbnail_is_upright_keeps_its_aspect_and_fits_the_tile(real_jpeg):
    upright = Image.open(io.BytesIO(real_jpeg)).convert("RGB").resize((400, 200))
    picture = thumbnail(with_orientation(upright.transpose(Image.Transpose.ROTATE_90), 6))
    assert picture is not None and (picture.mode, picture.size) == ("RGB", (THUMBNAIL, THUMBNAIL // 2))


@pytest.mark.parametrize("content", [b"", b"not an image", FileNotFoundError("gone"), None])
def test_what_cannot_be_shown_has_no_thumbnail_but_a_placeholder(content):
    assert thumbnail(content) is None
    assert placeholder().size == (THUMBNAIL, THUMBNAIL) and placeholder().getpixel((0, 0)) == PLACEHOLDER


@pytest.mark.integration  # a subprocess
def test_decoding_needs_no_spark() -> None:
    """The benchmark runs Ray Data and Daft with the project's decoding in a venv without PySpark."""
    blocked = "import sys; sys.modules['pyspark'] = None; import fruits.images; print('ok')"
    run = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, check=False)
    assert run.stdout.strip() == "ok", run.stderr[-2000:]
