"""`consentreg doctor` on both engines: one line per check, a problem named with what to do, the
exit code the problem would give a command; checks that an earlier problem keeps from running
say so instead of adding noise."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from consentreg.config import load_settings
from consentreg.services.doctor import diagnose
from tests.cli.conftest import Invoke


def _statuses(result_json: dict[str, object]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in result_json["checks"]}  # type: ignore[attr-defined]


def test_a_healthy_register_passes_once_it_has_a_checkpoint(cli: Invoke) -> None:
    first = cli("--json", "doctor")
    assert first.exit_code == 2
    assert _statuses(first.json())["checkpoint"] == "problem"
    assert "run `consentreg audit checkpoint`" in first.stdout
    assert cli("audit", "checkpoint").exit_code == 0
    healthy = cli("doctor")
    assert healthy.exit_code == 0, healthy.stdout
    assert "PROBLEM" not in healthy.stdout
    assert "key belongs to register" in healthy.stdout


def test_a_key_file_others_can_read_is_the_first_problem_and_blocks_the_rest(
    cli: Invoke, home: Path
) -> None:
    (home / "master.key").chmod(0o644)
    result = cli("--json", "doctor")
    assert result.exit_code == 2
    statuses = _statuses(result.json())
    assert statuses["key_file"] == "problem"
    assert statuses["key_matches_register"] == statuses["role"] == "skipped"
    assert statuses["database"] == statuses["schema"] == "ok"
    assert "chmod 600" in result.stdout


def test_another_registers_key_gives_exit_7(cli: Invoke, home: Path) -> None:
    (home / "master.key").chmod(0o600)
    (home / "master.key").write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    result = cli("--json", "doctor")
    assert result.exit_code == 7
    assert _statuses(result.json())["key_matches_register"] == "problem"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL: the database login
def test_a_login_without_a_role_gives_exit_8(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    """On SQLite the acting user is the OS login (tests/cli/test_roles_postgres.py has the
    database logins of PostgreSQL)."""
    cli("audit", "checkpoint")
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(variable, "vikar")
    result = cli("doctor")
    assert result.exit_code == 8
    assert "user vikar has no role in this register" in result.stdout


def test_an_old_checkpoint_and_a_missing_witness_folder_are_problems(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert cli("audit", "checkpoint").exit_code == 0
    monkeypatch.setenv("CONSENTREG_WITNESS_DIR", str(tmp_path / "not-mounted"))
    later = datetime.now(UTC) + timedelta(days=8)
    checks = {c.name: c for c in diagnose(load_settings(), now=later)}
    assert not checks["checkpoint"].ok
    assert "8 days old" in checks["checkpoint"].message
    assert not checks["witness"].ok
    assert "not-mounted" in checks["witness"].message
