"""The release self-check: walk every JPEG marker segment or PNG chunk of an encoded release
copy and refuse anything outside a small allow-list (mat2's idea, done on the bytes).

Pure Python and independent of Pillow: it checks what the encoder wrote, not what it was told."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import NoReturn

from consentreg.errors import ImageError

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SEGMENTS = {
    0xE0: "APP0",
    0xDB: "DQT",
    0xC0: "SOF0",
    0xC1: "SOF1",
    0xC2: "SOF2",
    0xC4: "DHT",
    0xDD: "DRI",
    0xDA: "SOS",
}
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2})
_JPEG_EOI = 0xD9
_JFIF_APP0_LENGTH = 16  # "JFIF\0", version, units, densities, thumbnail 0x0: no thumbnail
_PNG_CHUNKS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"sRGB", b"gAMA"})


def verify_clean(data: bytes) -> None:
    """Raise ImageError (image_invalid) unless `data` is a JPEG or PNG stream made only of
    allow-listed segments, with nothing before the signature or after the end marker."""
    if data.startswith(b"\xff\xd8"):
        _verify_jpeg(data)
    elif data.startswith(_PNG_SIGNATURE):
        _verify_png(data)
    else:
        _fail("release self-check failed: not a JPEG or PNG stream")


def _fail(message: str) -> NoReturn:
    raise ImageError(message, code="image_invalid")


def _verify_jpeg(data: bytes) -> None:
    pos = 2  # after the one SOI; another SOI anywhere is an unexpected marker
    seen: list[int] = []
    while True:
        if pos + 2 > len(data) or data[pos] != 0xFF:
            _fail("release self-check failed: JPEG marker expected")
        marker = data[pos + 1]
        if marker == _JPEG_EOI:
            _check_jpeg_end(data, pos, seen)
            return
        pos = _jpeg_segment_end(data, pos, marker, seen)
        seen.append(marker)
        if marker == 0xDA:
            pos = _skip_entropy_coded_data(data, pos)


def _jpeg_segment_end(data: bytes, pos: int, marker: int, seen: list[int]) -> int:
    """Check the segment at `pos` and return the offset after it."""
    if marker not in _JPEG_SEGMENTS:
        _fail(f"release self-check failed: unexpected JPEG marker 0xFF{marker:02X}")
    if pos + 4 > len(data):
        _fail("release self-check failed: truncated JPEG segment")
    end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    if end > len(data) or end < pos + 4:
        _fail("release self-check failed: JPEG segment length out of bounds")
    if marker == 0xE0:
        _check_app0(data[pos + 4 : end], seen)
    elif marker in _JPEG_SOF and _JPEG_SOF.intersection(seen):
        _fail("release self-check failed: more than one JPEG frame header")
    elif marker == 0xDA and not _JPEG_SOF.intersection(seen):
        _fail("release self-check failed: JPEG scan before frame header")
    return end


def _check_app0(payload: bytes, seen: list[int]) -> None:
    if seen or len(payload) + 2 != _JFIF_APP0_LENGTH or not payload.startswith(b"JFIF\0"):
        _fail("release self-check failed: JPEG APP0 is not a bare JFIF header")
    if payload[12:14] != b"\0\0":
        _fail("release self-check failed: JFIF thumbnail present")


def _skip_entropy_coded_data(data: bytes, pos: int) -> int:
    """Return the offset of the first marker after a scan (0xFF00 is a stuffed 0xFF byte,
    0xFFD0-0xFFD7 are restart markers inside the scan)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            _fail("release self-check failed: unterminated JPEG scan")
        following = data[pos + 1]
        if following != 0x00 and not 0xD0 <= following <= 0xD7:
            return pos
        pos += 2


def _check_jpeg_end(data: bytes, pos: int, seen: list[int]) -> None:
    if 0xDA not in seen:
        _fail("release self-check failed: JPEG without image data")
    if pos + 2 != len(data):
        _fail("release self-check failed: data after the JPEG end marker")


def _verify_png(data: bytes) -> None:
    first = True
    for ctype, end in png_chunks(data, problem="release self-check failed"):
        if ctype not in _PNG_CHUNKS:
            _fail(f"release self-check failed: unexpected PNG chunk {_chunk_name(ctype)}")
        if first != (ctype == b"IHDR"):
            _fail("release self-check failed: IHDR must be the first PNG chunk, once")
        first = False
        if ctype == b"IEND" and end != len(data):
            _fail("release self-check failed: data after the PNG end chunk")


def png_chunks(data: bytes, *, problem: str) -> Iterator[tuple[bytes, int]]:
    """Yield the type and end offset of each PNG chunk up to IEND, checking bounds and CRCs;
    raise ImageError (image_invalid, message starting with `problem`) on a broken structure."""
    pos = len(_PNG_SIGNATURE)
    while True:
        if pos + 12 > len(data):
            _fail(f"{problem}: truncated PNG chunk")
        length = int.from_bytes(data[pos : pos + 4], "big")
        ctype = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            _fail(f"{problem}: PNG chunk length out of bounds")
        crc = int.from_bytes(data[end - 4 : end], "big")
        if zlib.crc32(memoryview(data)[pos + 4 : end - 4]) != crc:
            _fail(f"{problem}: bad CRC in PNG chunk {_chunk_name(ctype)}")
        yield ctype, end
        if ctype == b"IEND":
            return
        pos = end


def _chunk_name(ctype: bytes) -> str:
    """The chunk type as text when it is four ASCII letters (as the spec says), else hex."""
    if ctype.isalpha() and ctype.isascii():
        return ctype.decode("ascii")
    return "0x" + ctype.hex().upper()
