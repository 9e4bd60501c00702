"""A wheel installed into a fresh virtual environment (not editable) runs `consentreg init`
with the migrations it ships, and installs no generic top-level names."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_installs_into_a_fresh_venv_and_initialises_a_register(tmp_path: Path) -> None:
    # the standard build front end, in an isolated environment, as a packager would build it
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", tmp_path / "dist", ROOT],
        check=True,
        cwd=tmp_path,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("consentreg-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.startswith("consentreg")} == set()
    assert (
        "consentreg_migrations/versions/0001_initial_schema.py" in zipfile.ZipFile(wheel).namelist()
    )
    shipped = set(zipfile.ZipFile(wheel).namelist())
    for web_file in (
        "consentreg_web/templates/base.html",
        "consentreg_web/static/style.css",
        "consentreg_web/locale/nb/LC_MESSAGES/messages.mo",
        "consentreg/locale/nb/LC_MESSAGES/consentreg.mo",
    ):
        assert web_file in shipped

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    pip = env_dir / "bin" / "pip"
    subprocess.run([pip, "install", "-q", wheel], check=True, cwd=tmp_path)
    home = tmp_path / "home"
    result = subprocess.run(
        [env_dir / "bin" / "consentreg", "init"],
        capture_output=True,
        text=True,
        env={"CONSENTREG_HOME": str(home), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "schema 0" in result.stdout
    check = subprocess.run(
        [env_dir / "bin" / "consentreg", "db", "check"],
        capture_output=True,
        text=True,
        env={"CONSENTREG_HOME": str(home), "PATH": "/usr/bin:/bin"},
    )
    assert check.returncode == 0, check.stderr
