"""Metadata payloads for dirty test images, each identifying value carrying a CANARY token, so a
leak shows up both in a raw-byte grep and in exiftool's decoded view.

Built in pure Python and Pillow, so the fixtures need no exiftool (exiftool is the independent
reader in the checks). Adapted from shared/reference/image-tools/dirty_common.py."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageCms
from PIL.ExifTags import IFD

CANARIES = {
    "exif_artist": "CANARY-EXIF-Artist Kari Nordmann",
    "exif_desc": "CANARY-EXIF-ImageDescription Solsikken barnehage",
    "exif_owner": "CANARY-EXIF-OwnerName Kari Nordmann",
    "exif_serial": "CANARY-EXIF-BodySerial 0042",
    "gps_area": "CANARY-GPS-AreaInformation",
    "xmp_person": "CANARY-XMP-PersonInImage Lina Nordmann",
    "xmp_region": "CANARY-XMP-RegionName Ola Nordmann",
    "xmp_creator": "CANARY-XMP-dc-creator",
    "iptc_byline": "CANARY-IPTC-By-line",
    "iptc_caption": "CANARY-IPTC-Caption",
    "icc": "CANARY-ICC-DeviceModelDesc SN-777",
    "com": "CANARY-JPEG-COM-owner Kari Nordmann",
    "app11": "CANARY-JPEG-APP11-jumbf-like",
    "app15": "CANARY-JPEG-APP15-unknown-segment",
    "trailer": "CANARY-TRAILER-after-end",
    "png_text": "CANARY-PNG-tEXt-Author",
    "png_ztxt": "CANARY-PNG-zTXt-Comment",
    "png_itxt": "CANARY-PNG-iTXt-Description",
    "png_private": "CANARY-PNG-private-chunk",
    "webp_unknown": "CANARY-WEBP-unknown-chunk",
}
GPS_LATITUDE = (59.0, 54.0, 40.0)  # Oslo, as degrees, minutes, seconds
GPS_LONGITUDE = (10.0, 45.0, 9.0)


def exif_block(orientation: int = 1, thumbnail: bytes | None = None) -> bytes:
    """An EXIF block ("Exif\\0\\0" + TIFF) with owner, serial, GPS, the orientation and
    optionally an IFD1 JPEG thumbnail."""
    exif = Image.Exif()
    exif[0x010F] = "NIKON"
    exif[0x0110] = "COOLPIX P6000"
    exif[0x013B] = CANARIES["exif_artist"]
    exif[0x010E] = CANARIES["exif_desc"]
    exif[0x0112] = orientation
    exif_ifd = exif.get_ifd(IFD.Exif)
    exif_ifd[0xA430] = CANARIES["exif_owner"]  # CameraOwnerName
    exif_ifd[0xA431] = CANARIES["exif_serial"]  # BodySerialNumber
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[1], gps[2], gps[3], gps[4] = "N", GPS_LATITUDE, "E", GPS_LONGITUDE
    gps[0x1C] = b"ASCII\0\0\0" + CANARIES["gps_area"].encode()  # GPSAreaInformation
    block = exif.tobytes()
    return block if thumbnail is None else _append_ifd1_thumbnail(block, thumbnail)


def _append_ifd1_thumbnail(block: bytes, thumbnail: bytes) -> bytes:
    """Link an IFD1 (Compression=6, JPEGInterchangeFormat, ...Length) holding `thumbnail`."""
    header, tiff = block[:6], bytearray(block[6:])
    endian = "<" if tiff[:2] == b"II" else ">"
    ifd0 = struct.unpack_from(endian + "I", tiff, 4)[0]
    count = struct.unpack_from(endian + "H", tiff, ifd0)[0]
    next_pointer = ifd0 + 2 + 12 * count
    ifd1 = len(tiff) + len(tiff) % 2
    tiff += b"\0" * (ifd1 - len(tiff))
    struct.pack_into(endian + "I", tiff, next_pointer, ifd1)
    thumb_at = ifd1 + 2 + 3 * 12 + 4
    tiff += struct.pack(endian + "H", 3)
    tiff += struct.pack(endian + "HHIHH", 0x0103, 3, 1, 6, 0)  # Compression: JPEG
    tiff += struct.pack(endian + "HHII", 0x0201, 4, 1, thumb_at)
    tiff += struct.pack(endian + "HHII", 0x0202, 4, 1, len(thumbnail))
    tiff += struct.pack(endian + "I", 0) + thumbnail
    return header + bytes(tiff)


def xmp_packet() -> bytes:
    """XMP with a creator, a person shown and an MWG face region with a name."""
    c = CANARIES
    return f"""<?xpacket begin='\ufeff' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x='adobe:ns:meta/'>
<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>
<rdf:Description rdf:about='' xmlns:dc='http://purl.org/dc/elements/1.1/'
  xmlns:Iptc4xmpExt='http://iptc.org/std/Iptc4xmpExt/2008-02-29/'
  xmlns:mwg-rs='http://www.metadataworkinggroup.com/schemas/regions/'
  xmlns:stArea='http://ns.adobe.com/xmp/sType/Area#'>
 <dc:creator><rdf:Seq><rdf:li>{c["xmp_creator"]}</rdf:li></rdf:Seq></dc:creator>
 <Iptc4xmpExt:PersonInImage><rdf:Bag><rdf:li>{c["xmp_person"]}</rdf:li></rdf:Bag>
 </Iptc4xmpExt:PersonInImage>
 <mwg-rs:Regions rdf:parseType='Resource'><mwg-rs:RegionList><rdf:Bag>
  <rdf:li rdf:parseType='Resource'><mwg-rs:Name>{c["xmp_region"]}</mwg-rs:Name>
   <mwg-rs:Type>Face</mwg-rs:Type><mwg-rs:Area stArea:x='0.5' stArea:y='0.5' stArea:w='0.1'
   stArea:h='0.1' stArea:unit='normalized'/></rdf:li>
 </rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end='w'?>""".encode()


def iptc_app13() -> bytes:
    """A Photoshop APP13 payload: an 8BIM IPTC-NAA resource with By-line and Caption."""
    records = b""
    for dataset, text in ((80, CANARIES["iptc_byline"]), (120, CANARIES["iptc_caption"])):
        value = text.encode()
        records += b"\x1c\x02" + bytes([dataset]) + struct.pack(">H", len(value)) + value
    padded = records + b"\0" * (len(records) % 2)
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", len(records))
    return b"Photoshop 3.0\0" + resource + padded


def jumbf_app11() -> bytes:
    """An APP11 payload in the JPEG XT box format, as C2PA manifests are stored: one JUMBF
    superbox with a description box and a JSON content box."""

    def box(box_type: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload) + 8) + box_type + payload

    json_uuid = b"json" + bytes.fromhex("00110010800000aa00389b71")
    description = box(b"jumd", json_uuid + b"\x03" + b"consentreg.test\0")
    content = box(b"json", ('{"note": "' + CANARIES["app11"] + '"}').encode())
    return b"JP" + b"\x00\x01" + b"\x00\x00\x00\x01" + box(b"jumb", description + content)


def canary_icc() -> bytes:
    """An sRGB profile with device header fields and an extra 'dmdd' tag holding a canary."""
    text = CANARIES["icc"].encode() + b"\0"
    tag = b"desc" + b"\0" * 4 + struct.pack(">I", len(text)) + text + b"\0" * 75
    profile = _add_icc_tag(_srgb_icc(), b"dmdd", tag)
    profile[48:56] = b"CNRYC0DE"  # device manufacturer and model
    return bytes(profile)


def red_blue_swapped_icc() -> bytes:
    """An RGB profile whose red and blue primaries are exchanged: converting it to sRGB
    turns red pixels blue, so a test can see that the profile was applied."""
    profile = _srgb_icc()
    table = dict(_icc_tag_entries(profile))
    swap = {b"rXYZ": table[b"bXYZ"], b"bXYZ": table[b"rXYZ"]}
    for index, (signature, _location) in enumerate(_icc_tag_entries(profile)):
        if signature in swap:
            struct.pack_into(">4sII", profile, 132 + 12 * index, signature, *swap[signature])
    return bytes(profile)


def _srgb_icc() -> bytearray:
    return bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def _icc_tag_entries(profile: bytearray) -> list[tuple[bytes, tuple[int, int]]]:
    count = struct.unpack_from(">I", profile, 128)[0]
    entries = []
    for index in range(count):
        signature, offset, size = struct.unpack_from(">4sII", profile, 132 + 12 * index)
        entries.append((signature, (offset, size)))
    return entries


def _add_icc_tag(profile: bytearray, signature: bytes, data: bytes) -> bytearray:
    """A copy of `profile` with one more tag (offsets shifted for the larger tag table)."""
    entries = [(sig, (offset + 12, size)) for sig, (offset, size) in _icc_tag_entries(profile)]
    body = profile[132 + 12 * len(entries) :]
    body += b"\0" * (-(len(body) + 132 + 12 * (len(entries) + 1)) % 4)
    entries.append((signature, (132 + 12 * (len(entries) + 1) + len(body), len(data))))
    body += data + b"\0" * (-len(data) % 4)
    out = bytearray(profile[:128]) + struct.pack(">I", len(entries))
    for sig, (offset, size) in entries:
        out += struct.pack(">4sII", sig, offset, size)
    out += body
    struct.pack_into(">I", out, 0, len(out))
    out[84:100] = b"\0" * 16  # profile ID: not computed
    return out


def jpeg_with_segments(jpeg: bytes, segments: list[tuple[int, bytes]]) -> bytes:
    """`jpeg` with marker segments inserted right after SOI."""
    inserted = b"".join(
        bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
        for marker, payload in segments
    )
    return jpeg[:2] + inserted + jpeg[2:]


def png_chunk(ctype: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(ctype + payload)
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", crc)


def png_with_chunk(png: bytes, chunk: bytes) -> bytes:
    """`png` with `chunk` inserted before IEND."""
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + chunk + png[iend:]


def png_from_rows(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes) -> bytes:
    """A minimal PNG (any depth Pillow's encoder cannot write) from unfiltered raw rows."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    stride = len(rows) // height
    raw = b"".join(b"\0" + rows[y * stride : (y + 1) * stride] for y in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, fmt, **params)
    return buffer.getvalue()
