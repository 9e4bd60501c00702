"""The structure of a JPEG file, checked before Pillow decodes it.

libjpeg treats damage it can get past as a *warning*: a premature end of a data segment, restart
markers out of sequence, extraneous bytes before a marker, a missing end of image. It then fills
the missing blocks with grey and carries on, and Pillow does not report those warnings. So a
damaged file would be released with invented pixels. This walks the markers and the restart
markers of every scan, and refuses (image_invalid) what libjpeg would only warn about.

What it cannot see: damage inside the entropy-coded data that keeps every marker in place (a
flipped bit in a Huffman code). A scan cut short without restart markers and closed with a new
end-of-image marker is not seen either."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from consentreg.errors import ImageError
from consentreg.i18n import msg

_EOI, _SOS, _DRI, _DNL = 0xD9, 0xDA, 0xDD, 0xDC
_RST = range(0xD0, 0xD8)
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers with a length field that may appear between SOI and EOI (ITU T.81 table B.1).
_SEGMENTS = _SOF | {0xC4, 0xCC, 0xDB, _DRI, _SOS, _DNL, 0xDE, 0xDF, 0xFE} | set(range(0xE0, 0xFE))
# In entropy-coded data: a run of 0xFF followed by anything but a stuffed zero is a marker.
_MARKER_IN_SCAN = re.compile(rb"\xff+[^\x00\xff]")


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int
    sampling: dict[int, tuple[int, int]]  # component id -> (h, v)


def _corrupt(what: str) -> ImageError:
    return ImageError(msg("image data is corrupt ({what})", what=what), code="image_invalid")


def _truncated() -> ImageError:
    return ImageError("image data is truncated (the JPEG ends early)", code="image_invalid")


def check_jpeg_structure(data: bytes) -> None:
    """Raise ImageError (image_invalid) unless every segment is whole, every scan's restart
    markers come in sequence and in the number the frame needs, and an end-of-image marker
    closes the image. Bytes after that marker are not looked at (the release drops them)."""
    pos, frame, interval = 2, None, 0
    while True:
        marker, pos = _next_marker(data, pos)
        if marker == _EOI:
            return
        if marker not in _SEGMENTS:
            raise _corrupt(f"unexpected marker 0x{marker:02X}")
        if pos + 2 > len(data):
            raise _truncated()
        (length,) = struct.unpack_from(">H", data, pos)
        end = pos + length
        if length < 2 or end > len(data):
            raise _truncated()
        body = data[pos + 2 : end]
        if marker in _SOF:
            frame = _parse_frame(body)
        elif marker == _DRI and len(body) >= 2:
            (interval,) = struct.unpack_from(">H", body)
        pos = end
        if marker == _SOS:
            if frame is None:
                raise _corrupt("scan before frame header")
            pos = _check_scan(data, pos, _mcus(frame, body), interval)


def _next_marker(data: bytes, pos: int) -> tuple[int, int]:
    """The marker at `pos` (after any fill bytes) and the position after it."""
    if pos >= len(data):
        raise _truncated()
    if data[pos] != 0xFF:
        raise _corrupt("extraneous bytes before a marker")
    while pos < len(data) and data[pos] == 0xFF:
        pos += 1
    if pos >= len(data):
        raise _truncated()
    return data[pos], pos + 1


def _check_scan(data: bytes, pos: int, mcus: int | None, interval: int) -> int:
    """Walk one scan's entropy-coded data; return the position of the marker that ends it."""
    for restarts, found in enumerate(_MARKER_IN_SCAN.finditer(data, pos)):
        marker = data[found.end() - 1]
        if marker not in _RST:
            if interval and mcus is not None and restarts not in _expected(mcus, interval):
                raise _corrupt("restart markers missing")
            return found.start()
        if marker != 0xD0 + restarts % 8:
            raise _corrupt("restart markers out of sequence")
    raise _truncated()


def _expected(mcus: int, interval: int) -> tuple[int, int]:
    """Restart markers an encoder writes: one after every `interval` MCUs but the last (some
    encoders write one after the last too)."""
    between = _ceil(mcus, interval) - 1
    return between, between + 1


def _parse_frame(body: bytes) -> _Frame:
    if len(body) < 6:
        raise _corrupt("short frame header")
    height, width, count = struct.unpack_from(">HHB", body, 1)
    if len(body) < 6 + 3 * count:
        raise _corrupt("short frame header")
    sampling = {}
    for i in range(count):
        ident, factors = body[6 + 3 * i], body[7 + 3 * i]
        sampling[ident] = (max(1, factors >> 4), max(1, factors & 0x0F))
    return _Frame(width, height, sampling)


def _mcus(frame: _Frame, scan_header: bytes) -> int | None:
    """How many MCUs the scan codes; None when the frame's height comes later (DNL)."""
    if not scan_header or frame.height == 0 or not frame.sampling:
        return None
    if len(scan_header) < 1 + 2 * scan_header[0]:
        raise _corrupt("short scan header")
    components = [scan_header[1 + 2 * i] for i in range(scan_header[0])]
    h_max = max(h for h, _ in frame.sampling.values())
    v_max = max(v for _, v in frame.sampling.values())
    if len(components) == 1 and components[0] in frame.sampling:
        h, v = frame.sampling[components[0]]
        columns = _ceil(_ceil(frame.width * h, h_max), 8)
        return columns * _ceil(_ceil(frame.height * v, v_max), 8)
    return _ceil(frame.width, 8 * h_max) * _ceil(frame.height, 8 * v_max)


def _ceil(a: int, b: int) -> int:
    return -(-a // b)
