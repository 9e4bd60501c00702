"""`publish --out` on a read-only or a full file system: one clear line, exit 2, and nothing of
a photo left in the folder. A read-only folder is found before anything is decided; a folder that
fills up during a batch voids the release whose copy did not fit (it is on no take-down list)
and stops the batch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image

from tests.faults.conftest import Invoke, Mount, fill, one_error_line


@pytest.fixture
def photo(cli: Invoke, tmp_path: Path) -> Path:
    """A consented child in a registered, complete photo (consent given today)."""
    notice = tmp_path / "notice.txt"
    notice.write_text("Vi publiserer bilder.\n", encoding="utf-8")
    born = (date.today() - timedelta(days=5 * 365)).isoformat()
    assert cli("purpose", "add", "facebook", "--title", "F", "--notice-file", notice).exit_code == 0
    child = cli("person", "add", "--name", "Emma Nordmann", "--born", born).stdout.strip()
    mother = cli("person", "add", "--name", "Mor Nordmann", "--born", "1988-01-01",
                 "--kind", "adult").stdout.strip()  # fmt: skip
    assert cli("guardian", "add", child, mother).exit_code == 0
    assert cli("consent", "grant", child, "--purpose", "facebook", "--by", mother).exit_code == 0
    path = tmp_path / "IMG_0001.jpg"
    Image.effect_noise((2400, 1800), 90).convert("RGB").save(path, quality=95)  # ~1 MB of noise
    added = cli("photo", "add", path, "--photographer", "Kari", "--subject", child, "--complete")
    assert added.exit_code == 0, added.stderr
    return path


@pytest.fixture
def small_fs(tmpfs: Mount) -> Iterator[Path]:
    with tmpfs(1024) as folder:
        yield folder


def _publications(cli: Invoke) -> list[dict[str, object]]:
    listed = cli("--json", "audit", "publications")
    assert listed.exit_code == 0, listed.stderr
    document = json.loads(listed.stdout)
    found: list[dict[str, object]] = document["publications"]
    return found


def test_a_read_only_output_folder_is_refused_before_anything_is_decided(
    cli: Invoke, photo: Path, tmp_path: Path, read_only: Mount
) -> None:
    out = tmp_path / "ready"
    out.mkdir()
    with read_only(out):
        result = cli("publish", photo, "--purpose", "facebook", "--out", out)
        one_error_line(result, 2, f"--out {out}", "not writable", "Read-only file system")
    assert list(out.iterdir()) == []
    assert _publications(cli) == []


def test_a_full_output_folder_voids_the_release_and_leaves_nothing_behind(
    cli: Invoke, photo: Path, small_fs: Path
) -> None:
    out = small_fs / "ready"
    out.mkdir()
    filler = fill(small_fs, leave_kb=8)  # room for the probe, not for a copy
    result = cli("publish", photo, "--purpose", "facebook", "--out", out)
    one_error_line(result, 2, f"--out {out}", "No space left on device")
    assert list(out.iterdir()) == []
    (voided,) = _publications(cli)
    assert (voided["decision"], voided["delivery"]) == ("released", "failed")
    assert cli("takedown", "list").stdout.strip().count("\n") == 0  # nothing to take down
    assert cli("audit", "verify").exit_code == 0

    filler.unlink()
    again = cli("publish", photo, "--purpose", "facebook", "--out", out)
    assert again.exit_code == 0, again.stderr
    assert len(list(out.iterdir())) == 1
