"""Run the real entry point in-process (`consentreg_cli.main.run`), with its one error
translator, against a fresh register on SQLite or PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cli.main import run


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


Invoke = Callable[..., Result]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def cli(
    request: pytest.FixtureRequest,
    home: Path,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Invoke:
    """`cli("person", "list")` -> Result; the register is initialised first."""
    monkeypatch.setenv("CONSENTREG_HOME", str(home))
    monkeypatch.delenv("CONSENTREG_KEY_FILE", raising=False)
    if db_url.startswith("sqlite"):
        monkeypatch.delenv("CONSENTREG_DB", raising=False)
    else:
        monkeypatch.setenv("CONSENTREG_DB", db_url)

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        try:
            run([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return Result(code, out, err)

    assert invoke("init").exit_code == 0
    return invoke
