"""Run the real entry point in-process (`consentreg_cli.main.run`), with its one error
translator, against a fresh register on SQLite or PostgreSQL.

The commands read the system clock, as an installed consentreg does (nothing moves its clock), so
the dates these tests give them are derived from today: `make test` runs them once more with the
system clock two years ahead."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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


def today() -> date:
    """Today in Europe/Oslo, where the commands judge every instant, by the system clock."""
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/Oslo")).date()


def school_year_start() -> date:
    """1 August of the current school year: a consent given that day runs through the coming
    31 July by default, so it is in force all of today's school year."""
    day = today()
    return date(day.year if day.month >= 8 else day.year - 1, 8, 1)


def born_years_ago(years: int) -> str:
    """A birth date `years` years before today (28 February for a 29 February), as typed."""
    day = today()
    if (day.month, day.day) == (2, 29):
        day = day.replace(day=28)
    return day.replace(year=day.year - years).isoformat()


def in_process(capsys: pytest.CaptureFixture[str]) -> Invoke:
    """The real entry point run in this process, its output captured per call."""

    def invoke(*args: object) -> Result:
        capsys.readouterr()
        try:
            run([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return invoke


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

    invoke = in_process(capsys)
    assert invoke("init").exit_code == 0
    return invoke
