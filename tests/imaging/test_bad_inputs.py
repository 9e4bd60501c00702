"""Hostile and broken inputs: every one is refused with an ImageError and the right reason
code, before any large allocation; nothing else escapes the gate."""

from __future__ import annotations

import os
import struct
import subprocess
import tempfile
import threading
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from consentreg.errors import ImageError
from consentreg.imaging import (
    MAX_INPUT_BYTES,
    MAX_PIXELS,
    inspect_image,
    read_input,
    render_release,
)
from tests.imaging.dirty import dirty_jpeg, photo_like
from tests.imaging.metadata import encode, png_chunk

GATES: list[Callable[[bytes], object]] = [inspect_image, lambda d: render_release(d, max_px=64)]


def assert_refused(data: bytes, code: str) -> None:
    """Both entry points refuse `data` with `code`; Pillow's global settings are untouched."""
    for gate in GATES:
        with pytest.raises(ImageError) as caught:
            gate(data)
        assert caught.value.code == code
        assert caught.value.exit_code == 5
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert Image.MAX_IMAGE_PIXELS == 89_478_485


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` but carries one tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + png_chunk(b"IEND", b"")
    )


def jpeg_with_frame_size(width: int, height: int) -> bytes:
    """A small valid JPEG whose SOF0 header is rewritten to claim `width` x `height`."""
    data = bytearray(encode(Image.new("RGB", (16, 16), "gray"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


@pytest.mark.parametrize(
    ("fmt", "params"),
    [
        ("TIFF", {}),
        ("GIF", {}),
        ("BMP", {}),
        ("ICO", {}),
        ("PPM", {}),
        ("TGA", {}),
        ("PCX", {}),
        ("AVIF", {}),
        ("JPEG2000", {}),
        ("PDF", {}),
        ("EPS", {}),
    ],
)
def test_a_format_outside_the_allow_list_is_unsupported(
    fmt: str, params: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = encode(photo_like(64, 48), fmt, **params)

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("the gate started a process (Ghostscript for EPS?)")

    monkeypatch.setattr(subprocess, "Popen", no_subprocess)
    assert_refused(data, "image_unsupported")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, this is a text file\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"<!DOCTYPE html><html></html>",
        b"PK\x03\x04" + b"\0" * 64,
        b"\xff\xd8",  # a JPEG start marker and nothing else
        b"RIFF\0\0\0\0WAVE",
    ],
    ids=["empty", "text", "svg", "html", "zip", "bare-soi", "riff-wave"],
)
def test_a_file_that_is_no_image_is_unsupported(data: bytes) -> None:
    assert_refused(data, "image_unsupported")


def test_a_jpeg_stream_that_breaks_off_after_its_header_is_invalid() -> None:
    data = encode(photo_like(64, 48), "JPEG")
    assert_refused(data[: data.index(b"\xff\xda") + 20], "image_invalid")


def test_a_png_with_a_bad_header_crc_is_invalid() -> None:
    data = bytearray(encode(photo_like(32, 24), "PNG"))
    data[29] ^= 0xFF  # the IHDR CRC
    assert_refused(bytes(data), "image_invalid")


def test_a_png_with_corrupt_compressed_data_is_invalid() -> None:
    data = bytearray(encode(photo_like(64, 48), "PNG"))
    start = data.index(b"IDAT") + 20
    data[start : start + 40] = b"\xaa" * 40
    assert_refused(bytes(data), "image_invalid")


@pytest.mark.parametrize(
    "data",
    [
        png_header_only(100_000, 100_000),  # Pillow's own DecompressionBombError
        png_header_only(10_000, 10_000),  # only a DecompressionBombWarning in stock Pillow
        png_header_only(8_000, 8_000),  # under Pillow's limit, over ours (64 MP)
        png_header_only(30_000, 10),  # few pixels, one side too long
        jpeg_with_frame_size(65_535, 65_535),
        jpeg_with_frame_size(9_000, 7_000),
    ],
    ids=["png-10g", "png-100m", "png-64m", "png-long-side", "jpeg-4g", "jpeg-63m"],
)
def test_a_header_claiming_too_many_pixels_is_refused_before_decoding(data: bytes) -> None:
    assert_refused(data, "image_too_large")


def test_a_real_highly_compressed_bomb_is_refused_as_too_large() -> None:
    data = encode(Image.new("1", (8_000, 8_000)), "PNG")
    assert len(data) < 100_000 < 8_000 * 8_000 // 8
    assert_refused(data, "image_too_large")


def test_a_decompression_bomb_warning_never_leaks_as_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageError, match="too large"):
            inspect_image(png_header_only(10_000, 10_000))


def test_a_50_megapixel_image_is_within_the_limits() -> None:
    assert MAX_PIXELS >= 8_660 * 5_774
    data = encode(Image.new("L", (8_660, 5_774), 128), "JPEG", quality=50)
    released = render_release(data, max_px=1280)
    assert (released.width, released.height) == (1280, 853)


def test_bytes_over_the_input_limit_are_too_large_even_when_passed_directly() -> None:
    data = dirty_jpeg() + b"\0" * (MAX_INPUT_BYTES + 1)
    assert_refused(data, "image_too_large")


def test_a_polyglot_jpeg_with_a_zip_after_its_end_is_released_without_it() -> None:
    zip_data = b"PK\x03\x04" + b"payload.html" + b"<html>attack</html>"
    released = render_release(encode(photo_like(64, 48), "JPEG") + zip_data, max_px=64)
    assert b"PK\x03\x04" not in released.data
    assert b"<html>" not in released.data
    assert released.data.endswith(b"\xff\xd9")


# read_input: the one place a path is opened.


def test_read_input_returns_the_bytes_of_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff" + b"x" * 100)
    assert read_input(path) == b"\xff\xd8\xff" + b"x" * 100


def test_a_valid_jpeg_named_png_is_judged_by_its_content(tmp_path: Path) -> None:
    path = tmp_path / "--help.png"
    path.write_bytes(encode(photo_like(64, 48), "JPEG"))
    assert inspect_image(read_input(path)).format == "JPEG"


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.jpg"
    with path.open("wb") as handle:
        handle.truncate(MAX_INPUT_BYTES + 1)  # sparse: costs no disk space
    with pytest.raises(ImageError) as caught:
        read_input(path)
    assert caught.value.code == "image_too_large"


def test_a_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    with path.open("wb") as handle:
        handle.truncate(MAX_INPUT_BYTES)
    assert len(read_input(path)) == MAX_INPUT_BYTES


def test_a_symlink_is_refused_even_when_it_points_to_an_image(tmp_path: Path) -> None:
    target = tmp_path / "real.jpg"
    target.write_bytes(encode(photo_like(32, 24), "JPEG"))
    link = tmp_path / "link.jpg"
    link.symlink_to(target)
    assert_read_refused(link)


def assert_read_refused(path: Path) -> None:
    with pytest.raises(ImageError) as caught:
        read_input(path)
    assert caught.value.code == "image_invalid"
    assert str(path.name) not in str(caught.value)


def test_a_missing_file_is_invalid(tmp_path: Path) -> None:
    assert_read_refused(tmp_path / "missing.jpg")


def test_a_broken_symlink_is_invalid(tmp_path: Path) -> None:
    link = tmp_path / "broken.jpg"
    link.symlink_to(tmp_path / "nowhere.jpg")
    assert_read_refused(link)


def test_a_directory_is_invalid(tmp_path: Path) -> None:
    assert_read_refused(tmp_path)


def test_a_character_device_is_invalid_and_not_read() -> None:
    assert_read_refused(Path("/dev/zero"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            read_input(fifo)
        except ImageError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)  # a hung open must not hang the run
    reader.start()
    reader.join(timeout=5)
    assert not reader.is_alive(), "read_input blocked on a FIFO"
    assert [getattr(exc, "code", None) for exc in outcome] == ["image_invalid"]


def test_a_path_with_a_nul_byte_is_invalid(tmp_path: Path) -> None:
    assert_read_refused(tmp_path / "a\0b.jpg")


def test_an_unreadable_file_is_invalid(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        path = tmp_path / "secret.jpg"
        path.write_bytes(b"\xff\xd8\xff")
        path.chmod(0)
        assert_read_refused(path)
        return
    # root reads anything: the reader is a child process that gave up root (uid nobody), in a
    # folder of its own under the system's temporary folder, which nobody may walk through
    with tempfile.TemporaryDirectory() as folder:
        Path(folder).chmod(0o711)
        path = Path(folder) / "secret.jpg"
        path.write_bytes(b"\xff\xd8\xff")
        path.chmod(0)
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports by its exit code only
            try:
                os.setgid(65534)
                os.setuid(65534)
                assert_read_refused(path)
            except BaseException:  # noqa: BLE001 - any failure is reported as the exit code
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_render_release_refuses_nonsense_arguments() -> None:
    data = encode(photo_like(32, 24), "JPEG")
    with pytest.raises(ValueError, match="max_px"):
        render_release(data, max_px=0)
    with pytest.raises(ValueError, match="quality"):
        render_release(data, max_px=10, quality=101)


def test_the_gate_leaves_no_decompression_bomb_filter_behind() -> None:
    before = list(warnings.filters)
    with pytest.raises(ImageError):
        inspect_image(png_header_only(10_000, 10_000))
    assert warnings.filters == before
