"""Colour modes and colour management: what comes out for each kind of pixel data."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from consentreg.imaging import Rendition, render_release
from tests.imaging.metadata import canary_icc, encode, png_from_rows, red_blue_swapped_icc


def opened(rendition: Rendition) -> Image.Image:
    im = Image.open(io.BytesIO(rendition.data))
    im.load()
    assert im.format == {"jpg": "JPEG", "png": "PNG"}[rendition.extension]
    assert (im.width, im.height) == (rendition.width, rendition.height)
    return im


def assert_close(actual: object, expected: tuple[int, ...], tolerance: int = 12) -> None:
    assert isinstance(actual, tuple)
    assert len(actual) == len(expected)
    assert max(abs(a - e) for a, e in zip(actual, expected, strict=True)) <= tolerance, actual


def half_transparent_rgba() -> Image.Image:
    im = Image.new("RGBA", (40, 20), (200, 30, 30, 255))
    im.paste((0, 0, 0, 0), (0, 0, 20, 20))
    return im


def test_an_rgba_png_with_transparent_pixels_is_released_as_an_rgba_png() -> None:
    released = render_release(encode(half_transparent_rgba(), "PNG"), max_px=20)
    im = opened(released)
    assert (released.extension, im.mode, im.size) == ("png", "RGBA", (20, 10))
    assert_close(im.getpixel((2, 5)), (0, 0, 0, 0), tolerance=0)
    assert_close(im.getpixel((17, 5)), (200, 30, 30, 255), tolerance=2)


def test_colour_hidden_under_fully_transparent_pixels_is_not_released() -> None:
    masked = Image.new("RGBA", (16, 16), (200, 100, 50, 0))  # a "face" hidden by alpha only
    masked.paste((10, 10, 10, 255), (8, 0, 16, 16))
    for max_px in (16, 8):
        im = opened(render_release(encode(masked, "PNG"), max_px=max_px))
        assert im.getpixel((0, 0)) == (0, 0, 0, 0)
        visible = im.convert("RGBa")  # colour as it is seen: premultiplied by alpha
        brightest_red = visible.getchannel("R").getextrema()[1]
        assert isinstance(brightest_red, int | float)
        assert brightest_red <= 12


def test_a_transparent_webp_is_released_as_a_png() -> None:
    released = render_release(encode(half_transparent_rgba(), "WEBP", lossless=True), max_px=40)
    assert released.extension == "png"
    assert opened(released).getpixel((2, 5)) == (0, 0, 0, 0)


def test_an_opaque_rgba_png_is_released_as_a_jpeg() -> None:
    opaque = Image.new("RGBA", (40, 20), (10, 120, 200, 255))
    released = render_release(encode(opaque, "PNG"), max_px=40)
    im = opened(released)
    assert (released.extension, im.mode) == ("jpg", "RGB")
    assert_close(im.getpixel((20, 10)), (10, 120, 200))


def test_a_palette_png_with_a_transparent_index_is_released_as_a_png() -> None:
    palette = Image.new("P", (32, 16), 1)
    palette.putpalette([0, 0, 0, 250, 200, 0] + [0] * 762)
    palette.paste(0, (0, 0, 16, 16))
    released = render_release(encode(palette, "PNG", transparency=0), max_px=32)
    im = opened(released)
    assert released.extension == "png"
    assert im.getpixel((4, 4)) == (0, 0, 0, 0)
    assert_close(im.getpixel((28, 8)), (250, 200, 0, 255), tolerance=0)


def test_a_palette_png_without_transparency_is_released_as_a_jpeg() -> None:
    palette = Image.new("P", (32, 16), 1)
    palette.putpalette([0, 0, 0, 250, 200, 0] + [0] * 762)
    released = render_release(encode(palette, "PNG"), max_px=32)
    assert released.extension == "jpg"
    assert_close(opened(released).getpixel((16, 8)), (250, 200, 0))


def test_a_truecolour_png_with_a_transparent_colour_key_is_released_as_a_png() -> None:
    keyed = Image.new("RGB", (16, 16), (1, 2, 3))
    keyed.paste((90, 90, 90), (8, 0, 16, 16))
    released = render_release(encode(keyed, "PNG", transparency=(1, 2, 3)), max_px=16)
    assert released.extension == "png"
    assert opened(released).getpixel((2, 2)) == (0, 0, 0, 0)


def test_a_16_bit_grayscale_png_keeps_its_tones() -> None:
    rows = b"".join(struct.pack(">H", value) * 8 for value in (0, 20_000, 40_000, 65_535))
    released = render_release(png_from_rows(8, 4, 16, 0, rows), max_px=8)
    im = opened(released)
    assert (released.extension, im.mode) == ("jpg", "L")
    levels = [im.getpixel((4, row)) for row in range(4)]
    for level, expected in zip(levels, (0, 78, 156, 255), strict=True):
        assert isinstance(level, int)
        assert abs(level - expected) <= 12


def test_a_16_bit_rgb_png_keeps_its_colours() -> None:
    pixel = struct.pack(">HHH", 65_535, 32_768, 0)
    released = render_release(png_from_rows(8, 8, 16, 2, pixel * 64), max_px=8)
    assert_close(opened(released).getpixel((4, 4)), (255, 128, 0))


def test_a_16_bit_rgba_png_with_transparency_is_released_as_a_png() -> None:
    rows = (
        struct.pack(">HHHH", 65_535, 0, 0, 0) * 4 + struct.pack(">HHHH", 0, 0, 65_535, 65_535) * 4
    ) * 8
    released = render_release(png_from_rows(8, 8, 16, 6, rows), max_px=8)
    im = opened(released)
    assert released.extension == "png"
    assert im.getpixel((1, 4))[3] == 0  # type: ignore[index]
    assert_close(im.getpixel((6, 4)), (0, 0, 255, 255), tolerance=2)


def test_a_grayscale_jpeg_is_released_as_a_grayscale_jpeg() -> None:
    released = render_release(encode(Image.new("L", (64, 64), 77), "JPEG"), max_px=32)
    im = opened(released)
    assert (im.mode, im.size) == ("L", (32, 32))
    assert abs(int(im.getpixel((16, 16))) - 77) <= 3  # type: ignore[arg-type]


def test_a_bilevel_png_is_released() -> None:
    bilevel = Image.new("1", (64, 32), 0)
    bilevel.paste(1, (32, 0, 64, 32))
    im = opened(render_release(encode(bilevel, "PNG"), max_px=64))
    assert im.mode == "L"
    assert im.getpixel((8, 16)) == 0
    assert im.getpixel((56, 16)) == 255


def test_a_cmyk_jpeg_is_released_as_rgb() -> None:
    cmyk = Image.new("CMYK", (32, 32), (0, 255, 255, 0))  # red
    im = opened(render_release(encode(cmyk, "JPEG", quality=95), max_px=32))
    assert im.mode == "RGB"
    assert_close(im.getpixel((16, 16)), (255, 0, 0), tolerance=16)


def test_an_embedded_profile_is_applied_before_it_is_dropped() -> None:
    red = Image.new("RGB", (32, 32), (255, 0, 0))
    for fmt in ("JPEG", "PNG", "WEBP"):
        data = encode(red, fmt, icc_profile=red_blue_swapped_icc(), quality=95)
        released = render_release(data, max_px=32)
        assert_close(opened(released).getpixel((16, 16)), (0, 0, 255), tolerance=24)
        assert b"acsp" not in released.data


def test_an_srgb_profile_leaves_the_colours_as_they_are() -> None:
    colour = (12, 140, 230)
    data = encode(Image.new("RGB", (32, 32), colour), "PNG", icc_profile=canary_icc())
    assert_close(opened(render_release(data, max_px=32)).getpixel((16, 16)), colour, tolerance=4)


@pytest.mark.parametrize(
    "icc",
    [b"not a profile at all", canary_icc()[:200], b"\0" * 128],
    ids=["garbage", "truncated", "zeros"],
)
def test_an_unusable_profile_is_ignored_and_the_pixels_released(icc: bytes) -> None:
    colour = (40, 160, 90)
    data = encode(Image.new("RGB", (32, 32), colour), "JPEG", icc_profile=icc, quality=95)
    assert_close(opened(render_release(data, max_px=32)).getpixel((16, 16)), colour, tolerance=6)


def test_a_profile_for_another_colour_space_is_ignored() -> None:
    data = encode(Image.new("L", (16, 16), 100), "PNG", icc_profile=canary_icc())
    im = opened(render_release(data, max_px=16))
    assert im.mode == "L"
    assert im.getpixel((8, 8)) == 100


def test_only_the_first_frame_of_an_animation_is_released() -> None:
    frames = [Image.new("RGB", (32, 32), colour) for colour in ((250, 0, 0), (0, 0, 250))]
    for fmt in ("PNG", "WEBP"):
        data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], lossless=True)
        im = opened(render_release(data, max_px=32))
        assert getattr(im, "n_frames", 1) == 1
        assert_close(im.getpixel((16, 16)), (250, 0, 0))
