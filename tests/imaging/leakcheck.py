"""Two independent leak detectors for release copies (as in shared/reference/image-tools):
a raw-byte grep for canaries and container signatures, and exiftool's decoded view checked
against an allow-list of structural keys."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.imaging.metadata import CANARIES

EXIFTOOL_ARGS = ("-j", "-a", "-u", "-G0:1", "-ee3", "-n")

# Keys a clean JPEG or PNG may show: file structure only (family-0:1 groups, as -G0:1 prints).
ALLOWED_KEYS = frozenset(
    {
        "SourceFile",
        "ExifTool:ExifToolVersion",
        "File:FileType",
        "File:FileTypeExtension",
        "File:MIMEType",
        "File:ImageWidth",
        "File:ImageHeight",
        "File:EncodingProcess",
        "File:BitsPerSample",
        "File:ColorComponents",
        "File:YCbCrSubSampling",
        "JFIF:JFIFVersion",
        "JFIF:ResolutionUnit",
        "JFIF:XResolution",
        "JFIF:YResolution",
        "PNG:ImageWidth",
        "PNG:ImageHeight",
        "PNG:BitDepth",
        "PNG:ColorType",
        "PNG:Compression",
        "PNG:Filter",
        "PNG:Interlace",
        "Composite:ImageSize",
        "Composite:Megapixels",
    }
)
ALLOWED_PREFIXES = ("File:System:",)  # file name, size and dates of the temporary file

# Signatures of metadata containers, long enough never to occur by chance in pixel data.
CONTAINER_SIGNATURES = (
    b"Exif\0\0",
    b"http://ns.adobe.com/",
    b"<x:xmpmeta",
    b"<?xpacket",
    b"Photoshop 3.0",
    b"ICC_PROFILE\0",
    b"CANARY-",
)


def exiftool_path() -> str:
    """exiftool's path; skips the test when it is absent, unless CONSENTREG_REQUIRE_EXIFTOOL=1
    says that the run must not go without it (then the test fails loudly)."""
    path = shutil.which("exiftool")
    if path is None:
        if os.environ.get("CONSENTREG_REQUIRE_EXIFTOOL") == "1":
            pytest.fail("exiftool is required (CONSENTREG_REQUIRE_EXIFTOOL=1) but not installed")
        pytest.skip("exiftool is not installed")
    return path


def exiftool_metadata(paths: list[Path]) -> dict[Path, dict[str, object]]:
    """exiftool's full decoded view of each file (absolute paths: never read as options)."""
    if not paths:
        return {}
    absolute = [path.resolve() for path in paths]
    result = subprocess.run(
        [exiftool_path(), *EXIFTOOL_ARGS, *map(str, absolute)],
        capture_output=True,
        check=False,
        timeout=300,
    )
    records: list[dict[str, object]] = json.loads(result.stdout or b"[]")
    by_name = {Path(str(record["SourceFile"])): record for record in records}
    return {path: by_name[resolved] for path, resolved in zip(paths, absolute, strict=True)}


def residual_keys(metadata: dict[str, object]) -> list[str]:
    """Keys outside the structural allow-list: each one is metadata that survived."""
    return sorted(
        key for key in metadata if key not in ALLOWED_KEYS and not key.startswith(ALLOWED_PREFIXES)
    )


def canaries_in(data: bytes) -> list[str]:
    """Names of the canaries found in `data`, as UTF-8 or UTF-16 text."""
    return sorted(
        name
        for name, value in CANARIES.items()
        if value.encode() in data or value.encode("utf-16-le") in data
    )


def container_signatures_in(data: bytes) -> list[bytes]:
    return [signature for signature in CONTAINER_SIGNATURES if signature in data]


def write_release(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path
