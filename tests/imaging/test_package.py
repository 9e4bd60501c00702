"""The imaging package as the rest of consentreg sees it: its public names, and what importing
it costs and pulls in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import consentreg.imaging

PUBLIC_API = {
    "MAX_INPUT_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "ImageInfo",
    "Rendition",
    "inspect_image",
    "read_input",
    "render_file",
    "render_release",
    "verify_clean",
}
FRESH_INTERPRETER_CHECK = """
import sys
import consentreg.imaging as imaging
loaded = set(sys.modules)
assert not loaded & {"pillow_heif", "sqlalchemy", "cryptography", "consentreg.db"}, loaded
heic = open(sys.argv[1], "rb").read()
print(imaging.render_release(heic, max_px=64).extension)
assert "pillow_heif" in sys.modules
"""


def test_the_package_exports_exactly_the_public_api() -> None:
    assert set(consentreg.imaging.__all__) == PUBLIC_API
    assert consentreg.imaging.MAX_INPUT_BYTES == 60 * 1024 * 1024
    assert consentreg.imaging.MAX_PIXELS == 60_000_000
    assert consentreg.imaging.MAX_SIDE == 20_000


def test_heic_support_is_loaded_on_first_use_in_a_fresh_interpreter(tmp_path: Path) -> None:
    from tests.imaging.dirty import dirty_heic, photo_like

    heic = tmp_path / "photo.heic"
    heic.write_bytes(dirty_heic(photo_like(96, 64)))
    result = subprocess.run(
        [sys.executable, "-c", FRESH_INTERPRETER_CHECK, str(heic)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "jpg"
