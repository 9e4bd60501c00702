"""Hand-built metadata blocks for the sample photos, so that `make demo` needs Pillow only.

- `exif_block`: a little-endian TIFF structure with IFD0, the Exif IFD, the GPS IFD and, when a
  thumbnail is given, IFD1 with an embedded JPEG thumbnail (Pillow cannot write IFD1).
- `xmp_packet`: dc/photoshop/IPTC-extension names and MWG face regions.
- `photoshop_irb`: an APP13 "Photoshop 3.0" block with one 8BIM resource holding IPTC-IIM.
- `insert_segments`: splice extra segments into a JPEG after its leading APPn/COM segments.

Every value is meant to be found and removed by the publishing gate; none of it is a secret.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from xml.sax.saxutils import escape, quoteattr

_BYTE, _ASCII, _SHORT, _LONG, _RATIONAL, _UNDEFINED = 1, 2, 3, 4, 5, 7


@dataclass(frozen=True)
class Camera:
    make: str
    model: str
    body_serial: str
    lens_model: str
    lens_serial: str
    owner: str
    software: str


@dataclass(frozen=True)
class Place:
    city: str
    lat: float
    lon: float
    altitude: float


@dataclass(frozen=True)
class Face:
    """A named face region; `area` is normalized (centre x, centre y, width, height)."""

    name: str
    area: tuple[float, float, float, float]


@dataclass(frozen=True)
class PhotoMeta:
    """Everything written into one photo's metadata. `taken` is timezone-aware."""

    camera: Camera
    place: Place
    taken: datetime
    artist: str
    title: str
    caption: str
    keywords: tuple[str, ...]
    persons: tuple[str, ...]
    faces: tuple[Face, ...]
    orientation: int
    stored_size: tuple[int, int]
    display_size: tuple[int, int]


# --- EXIF / TIFF -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tag:
    tag: int
    type: int
    count: int
    data: bytes


def _ascii(tag: int, text: str) -> _Tag:
    data = text.encode("utf-8") + b"\0"
    return _Tag(tag, _ASCII, len(data), data)


def _short(tag: int, *values: int) -> _Tag:
    return _Tag(tag, _SHORT, len(values), struct.pack(f"<{len(values)}H", *values))


def _long(tag: int, *values: int) -> _Tag:
    return _Tag(tag, _LONG, len(values), struct.pack(f"<{len(values)}I", *values))


def _byte(tag: int, *values: int) -> _Tag:
    return _Tag(tag, _BYTE, len(values), bytes(values))


def _undefined(tag: int, data: bytes) -> _Tag:
    return _Tag(tag, _UNDEFINED, len(data), data)


def _rational(tag: int, *values: float) -> _Tag:
    parts = [Fraction(v).limit_denominator(10_000) for v in values]
    packed = b"".join(struct.pack("<II", p.numerator, p.denominator) for p in parts)
    return _Tag(tag, _RATIONAL, len(parts), packed)


def _padded(size: int) -> int:
    return size + (size & 1)


def _ifd_size(tags: list[_Tag]) -> int:
    overflow = sum(_padded(len(t.data)) for t in tags if len(t.data) > 4)
    return 2 + 12 * len(tags) + 4 + overflow


def _pack_ifd(tags: list[_Tag], offset: int, next_ifd: int) -> bytes:
    tags = sorted(tags, key=lambda t: t.tag)
    head = struct.pack("<H", len(tags))
    tail = b""
    data_offset = offset + 2 + 12 * len(tags) + 4
    for tag in tags:
        if len(tag.data) <= 4:
            value = tag.data.ljust(4, b"\0")
        else:
            value = struct.pack("<I", data_offset + len(tail))
            tail += tag.data + b"\0" * (len(tag.data) & 1)
        head += struct.pack("<HHI", tag.tag, tag.type, tag.count) + value
    return head + struct.pack("<I", next_ifd) + tail


def _exif_datetime(moment: datetime) -> str:
    return moment.strftime("%Y:%m:%d %H:%M:%S")


def _utc_offset(moment: datetime) -> str:
    return moment.strftime("%z")[:3] + ":" + moment.strftime("%z")[3:]


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(abs(value))
    minutes_full = (abs(value) - degrees) * 60
    minutes = int(minutes_full)
    return float(degrees), float(minutes), round((minutes_full - minutes) * 60, 2)


def _ifd0_tags(meta: PhotoMeta) -> list[_Tag]:
    cam = meta.camera
    return [
        _ascii(0x010E, meta.caption),  # ImageDescription
        _ascii(0x010F, cam.make),
        _ascii(0x0110, cam.model),
        _short(0x0112, meta.orientation),
        _rational(0x011A, 72),
        _rational(0x011B, 72),
        _short(0x0128, 2),
        _ascii(0x0131, cam.software),
        _ascii(0x0132, _exif_datetime(meta.taken)),
        _ascii(0x013B, meta.artist),  # Artist
        _short(0x0213, 1),  # YCbCrPositioning
        _ascii(0x8298, f"© {meta.artist}"),  # Copyright
        _byte(0x9C9B, *meta.title.encode("utf-16-le"), 0, 0),  # XPTitle (UCS-2)
        _byte(0x9C9D, *meta.artist.encode("utf-16-le"), 0, 0),  # XPAuthor (UCS-2)
    ]


def _exif_ifd_tags(meta: PhotoMeta) -> list[_Tag]:
    cam = meta.camera
    stamp = _exif_datetime(meta.taken)
    offset = _utc_offset(meta.taken)
    comment = b"UNICODE\0" + ", ".join(meta.persons).encode("utf-16-le")
    return [
        _rational(0x829A, 1 / 250),  # ExposureTime
        _rational(0x829D, 5.6),  # FNumber
        _short(0x8827, 200),  # ISO
        _undefined(0x9000, b"0232"),  # ExifVersion
        _ascii(0x9003, stamp),  # DateTimeOriginal
        _ascii(0x9004, stamp),  # CreateDate
        _ascii(0x9010, offset),
        _ascii(0x9011, offset),  # OffsetTimeOriginal
        _undefined(0x9101, bytes((1, 2, 3, 0))),  # ComponentsConfiguration (YCbCr)
        _undefined(0x9286, comment),  # UserComment
        _undefined(0xA000, b"0100"),  # FlashpixVersion
        _short(0xA001, 1),  # ColorSpace sRGB
        _long(0xA002, meta.stored_size[0]),
        _long(0xA003, meta.stored_size[1]),
        _ascii(0xA430, cam.owner),  # CameraOwnerName
        _ascii(0xA431, cam.body_serial),  # BodySerialNumber
        _ascii(0xA434, cam.lens_model),
        _ascii(0xA435, cam.lens_serial),  # LensSerialNumber
    ]


def _gps_tags(meta: PhotoMeta) -> list[_Tag]:
    place = meta.place
    return [
        _byte(0x0000, 2, 3, 0, 0),  # GPSVersionID
        _ascii(0x0001, "N" if place.lat >= 0 else "S"),
        _rational(0x0002, *_dms(place.lat)),
        _ascii(0x0003, "E" if place.lon >= 0 else "W"),
        _rational(0x0004, *_dms(place.lon)),
        _byte(0x0005, 0),
        _rational(0x0006, place.altitude),
        _ascii(0x001D, meta.taken.strftime("%Y:%m:%d")),  # GPSDateStamp (local date, as phones do)
    ]


def exif_block(meta: PhotoMeta, thumbnail: bytes | None = None) -> bytes:
    """The APP1 payload (b"Exif\\0\\0" + TIFF); with `thumbnail`, IFD1 carries that JPEG."""
    exif_tags, gps_tags = _exif_ifd_tags(meta), _gps_tags(meta)
    ifd1_base = [_short(0x0103, 6), _rational(0x011A, 72), _rational(0x011B, 72), _short(0x0128, 2)]
    ifd0 = [*_ifd0_tags(meta), _long(0x8769, 0), _long(0x8825, 0)]
    ifd1 = [*ifd1_base, _long(0x0201, 0), _long(0x0202, 0)] if thumbnail else []
    exif_at = 8 + _ifd_size(ifd0)
    gps_at = exif_at + _ifd_size(exif_tags)
    ifd1_at = gps_at + _ifd_size(gps_tags)
    thumb_at = ifd1_at + _ifd_size(ifd1)
    ifd0 = [*_ifd0_tags(meta), _long(0x8769, exif_at), _long(0x8825, gps_at)]
    tiff = b"II*\0" + struct.pack("<I", 8)
    tiff += _pack_ifd(ifd0, 8, ifd1_at if thumbnail else 0)
    tiff += _pack_ifd(exif_tags, exif_at, 0) + _pack_ifd(gps_tags, gps_at, 0)
    if thumbnail:
        ifd1 = [*ifd1_base, _long(0x0201, thumb_at), _long(0x0202, len(thumbnail))]
        tiff += _pack_ifd(ifd1, ifd1_at, 0) + thumbnail
    return b"Exif\0\0" + tiff


# --- XMP ---------------------------------------------------------------------------------------

_NAMESPACES = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "mwg-rs": "http://www.metadataworkinggroup.com/schemas/regions/",
    "stDim": "http://ns.adobe.com/xap/1.0/sType/Dimensions#",
    "stArea": "http://ns.adobe.com/xmp/sType/Area#",
}


def _items(kind: str, values: tuple[str, ...]) -> str:
    lis = "".join(f"<rdf:li>{escape(v)}</rdf:li>" for v in values)
    return f"<rdf:{kind}>{lis}</rdf:{kind}>"


def _region(face: Face) -> str:
    x, y, w, h = (f"{v:.4f}" for v in face.area)
    return (
        '<rdf:li rdf:parseType="Resource">'
        f'<mwg-rs:Area stArea:x="{x}" stArea:y="{y}" stArea:w="{w}" stArea:h="{h}"'
        ' stArea:unit="normalized"/>'
        f"<mwg-rs:Name>{escape(face.name)}</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type></rdf:li>"
    )


def xmp_packet(meta: PhotoMeta) -> bytes:
    """An XMP packet naming the photographer and every person, with MWG face regions
    (normalized to the displayed image, orientation applied)."""
    xmlns = "".join(f" xmlns:{k}={quoteattr(v)}" for k, v in _NAMESPACES.items())
    width, height = meta.display_size
    regions = "".join(_region(face) for face in meta.faces)
    body = (
        f'<rdf:Description rdf:about=""{xmlns}'
        f" xmp:CreateDate={quoteattr(meta.taken.isoformat())}"
        f" xmp:CreatorTool={quoteattr(meta.camera.software)}"
        f' photoshop:City={quoteattr(meta.place.city)} photoshop:Country="Norge">'
        f"<dc:creator>{_items('Seq', (meta.artist,))}</dc:creator>"
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(meta.title)}</rdf:li></rdf:Alt>'
        "</dc:title>"
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(meta.caption)}'
        "</rdf:li></rdf:Alt></dc:description>"
        f"<dc:subject>{_items('Bag', meta.keywords)}</dc:subject>"
        f"<Iptc4xmpExt:PersonInImage>{_items('Bag', meta.persons)}</Iptc4xmpExt:PersonInImage>"
        '<mwg-rs:Regions rdf:parseType="Resource">'
        f'<mwg-rs:AppliedToDimensions stDim:w="{width}" stDim:h="{height}" stDim:unit="pixel"/>'
        f"<mwg-rs:RegionList><rdf:Bag>{regions}</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>"
        "</rdf:Description>"
    )
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f"{body}</rdf:RDF></x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )
    return packet.encode("utf-8")


# --- IPTC in a Photoshop APP13 block -------------------------------------------------------------


def _dataset(record: int, number: int, value: bytes) -> bytes:
    return struct.pack(">BBBH", 0x1C, record, number, len(value)) + value


def iptc_iim(meta: PhotoMeta) -> bytes:
    """IPTC-IIM datasets (UTF-8 declared in 1:90)."""
    text = [
        (5, meta.title),
        *((25, keyword) for keyword in meta.keywords),
        (55, meta.taken.strftime("%Y%m%d")),
        (60, meta.taken.strftime("%H%M%S%z")),
        (80, meta.artist),  # By-line
        (90, meta.place.city),
        (101, "Norge"),
        (116, f"© {meta.artist}"),
        (120, meta.caption),  # Caption-Abstract
    ]
    out = _dataset(1, 90, b"\x1b%G") + _dataset(2, 0, struct.pack(">H", 4))
    return out + b"".join(_dataset(2, num, value.encode("utf-8")) for num, value in text)


def photoshop_irb(meta: PhotoMeta) -> bytes:
    """The APP13 payload: "Photoshop 3.0", then an 8BIM resource 0x0404 (IPTC-NAA)."""
    iim = iptc_iim(meta)
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", len(iim)) + iim
    return b"Photoshop 3.0\0" + resource + b"\0" * (len(iim) & 1)


# --- JPEG segments -------------------------------------------------------------------------------


def insert_segments(jpeg: bytes, segments: list[tuple[int, bytes]]) -> bytes:
    """Insert (marker, payload) segments after the leading APPn/COM segments of `jpeg`."""
    if jpeg[:2] != b"\xff\xd8":
        msg = "not a JPEG"
        raise ValueError(msg)
    pos = 2
    while jpeg[pos] == 0xFF and (0xE0 <= jpeg[pos + 1] <= 0xEF or jpeg[pos + 1] == 0xFE):
        pos += 2 + struct.unpack(">H", jpeg[pos + 2 : pos + 4])[0]
    extra = b"".join(
        bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload
        for marker, payload in segments
    )
    return jpeg[:pos] + extra + jpeg[pos:]
