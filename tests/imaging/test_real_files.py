"""Real files from outside (camera samples, exiftool's and mat2's test images, orientation
sets, C2PA files): each one gives either a clean release copy or an ImageError with a valid
reason code, never any other exception."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from consentreg.errors import ImageError
from consentreg.imaging import Rendition, inspect_image, read_input, render_release, verify_clean
from tests.imaging.leakcheck import container_signatures_in, exiftool_metadata, residual_keys

CORPUS = Path(os.environ.get("CONSENTREG_CORPUS", "/work/shared/corpus"))
if not CORPUS.is_dir():
    pytest.skip(f"no test corpus at {CORPUS}", allow_module_level=True)

MAX_PX = 640
FILES = sorted(str(path.relative_to(CORPUS)) for path in CORPUS.rglob("*") if path.is_file())
RELEASABLE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}
REASON_CODES = {"image_invalid", "image_unsupported", "image_too_large"}
# Files of an allowed format that are refused, and why.
KNOWN_REFUSALS = {
    "exiftool/QuickTime.heic": "image_invalid",  # metadata only, no image data
    "exif-samples/jpg/corrupted.jpg": "image_invalid",  # 16 KiB of scan data overwritten
}
# exiftool keys about the file on disk or computed by exiftool, not carried in the file.
NOT_CARRIED = ("SourceFile", "ExifTool:", "File:System:", "Composite:")

RELEASABLE = [
    name
    for name in FILES
    if Path(name).suffix.lower() in RELEASABLE_SUFFIXES and name not in KNOWN_REFUSALS
]

Outcome = Rendition | BaseException


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    """Every corpus file through the gate once; any exception is kept for its own test."""
    results: dict[str, Outcome] = {}
    for name in FILES:
        try:
            results[name] = render_release(read_input(CORPUS / name), max_px=MAX_PX)
        except Exception as exc:  # recorded, and judged by the test for that file
            results[name] = exc
    return results


@pytest.fixture(scope="module")
def release_paths(
    outcomes: dict[str, Outcome], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("releases")
    paths = {}
    for index, (name, outcome) in enumerate(sorted(outcomes.items())):
        if isinstance(outcome, Rendition):
            paths[name] = directory / f"{index:04d}.{outcome.extension}"
            paths[name].write_bytes(outcome.data)
    return paths


@pytest.fixture(scope="module")
def metadata_of_releases(release_paths: dict[str, Path]) -> dict[str, dict[str, object]]:
    found = exiftool_metadata(list(release_paths.values()))
    return {name: found[path] for name, path in release_paths.items()}


@pytest.fixture(scope="module")
def metadata_of_inputs() -> dict[str, dict[str, object]]:
    found = exiftool_metadata([CORPUS / name for name in FILES])
    return {name: found[CORPUS / name] for name in FILES}


@pytest.mark.parametrize("name", FILES)
def test_a_real_file_is_released_clean_or_refused_with_a_reason_code(
    name: str, outcomes: dict[str, Outcome]
) -> None:
    outcome = outcomes[name]
    if isinstance(outcome, ImageError):
        assert outcome.code in REASON_CODES
        assert outcome.code == expected_refusal(name), str(outcome)
        return
    assert isinstance(outcome, Rendition), repr(outcome)
    assert expected_refusal(name) is None
    verify_clean(outcome.data)
    assert container_signatures_in(outcome.data) == []
    assert_size_within_limit(name, outcome)


def expected_refusal(name: str) -> str | None:
    if name in KNOWN_REFUSALS:
        return KNOWN_REFUSALS[name]
    return None if Path(name).suffix.lower() in RELEASABLE_SUFFIXES else "image_unsupported"


def assert_size_within_limit(name: str, rendition: Rendition) -> None:
    info = inspect_image(read_input(CORPUS / name))
    assert max(rendition.width, rendition.height) == min(max(info.width, info.height), MAX_PX)
    assert (rendition.width >= rendition.height) == (info.width >= info.height)
    with Image.open(io.BytesIO(rendition.data)) as im:
        assert im.size == (rendition.width, rendition.height)


@pytest.mark.parametrize("name", RELEASABLE)
def test_exiftool_finds_no_metadata_in_a_real_files_release(
    name: str,
    release_paths: dict[str, Path],
    metadata_of_releases: dict[str, dict[str, object]],
    metadata_of_inputs: dict[str, dict[str, object]],
) -> None:
    assert residual_keys(metadata_of_releases[name]) == []
    data = release_paths[name].read_bytes()
    leaked = [value for value in carried_text(metadata_of_inputs[name]) if value.encode() in data]
    assert leaked == []


def carried_text(metadata: dict[str, object]) -> set[str]:
    """Text values of the metadata the input carries (names, serials, comments, ...): none
    may appear in the release's bytes."""
    carried = set(residual_keys(metadata))  # everything but the structural allow-list
    return {
        value
        for key, value in metadata.items()
        if key in carried
        and not key.startswith(NOT_CARRIED)
        and isinstance(value, str)
        and len(value.strip()) >= 8
        and any(character.isalpha() for character in value)
    }


ORIENTATION_SETS = [
    (f"orientation/{shape}_{number}.jpg", f"orientation/{shape}_1.jpg")
    for shape in ("Landscape", "Portrait")
    for number in (0, *range(2, 9))
] + [
    (
        f"exif-samples/jpg/orientation/{shape}_{number}.jpg",
        f"exif-samples/jpg/orientation/{shape}_1.jpg",
    )
    for shape in ("landscape", "portrait")
    for number in range(2, 9)
]


@pytest.mark.parametrize(("name", "reference"), ORIENTATION_SETS)
def test_a_real_oriented_photo_is_released_upright(
    name: str, reference: str, outcomes: dict[str, Outcome]
) -> None:
    released, upright = outcomes[name], outcomes[reference]
    assert isinstance(released, Rendition)
    assert isinstance(upright, Rendition)
    assert (released.width, released.height) == (upright.width, upright.height)
    assert mean_difference(released.data, upright.data) < 12


def mean_difference(first: bytes, second: bytes) -> float:
    with Image.open(io.BytesIO(first)) as a, Image.open(io.BytesIO(second)) as b:
        difference = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    return max(ImageStat.Stat(difference).mean)


def test_a_wrongly_oriented_photo_would_be_noticed() -> None:
    """The tolerance above tells orientations apart: a mirrored copy differs far more."""
    upright = render_release(read_input(CORPUS / "orientation/Landscape_1.jpg"), max_px=MAX_PX)
    with Image.open(io.BytesIO(upright.data)) as im:
        mirrored = io.BytesIO()
        im.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(mirrored, "JPEG")
    assert mean_difference(mirrored.getvalue(), upright.data) > 20
