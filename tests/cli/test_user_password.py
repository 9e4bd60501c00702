"""`consentreg user password`: an admin sets a login's web password, from a file or asked twice."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke


def test_an_admin_sets_a_password_from_a_file_and_a_reset_moves_the_session_epoch(
    cli: Invoke, tmp_path: Path
) -> None:
    assert cli("user", "add", "kari", "--role", "auditor").exit_code == 0
    secret = tmp_path / "pw.txt"
    secret.write_text("et-langt-passord-for-kari\n", encoding="utf-8")
    first = cli("--json", "user", "password", "kari", "--password-file", secret)
    assert first.exit_code == 0, first.stderr
    assert first.json()["session_epoch"] == 1
    again = cli("--json", "user", "password", "kari", "--password-file", secret)
    assert again.json()["session_epoch"] == 2
    assert "et-langt-passord" not in first.stdout + first.stderr


def test_a_short_password_or_a_login_without_a_role_is_refused(cli: Invoke, tmp_path: Path) -> None:
    secret = tmp_path / "pw.txt"
    secret.write_text("kort\n", encoding="utf-8")
    assert cli("user", "add", "kari", "--role", "auditor").exit_code == 0
    short = cli("user", "password", "kari", "--password-file", secret)
    assert short.exit_code == 2
    assert "shorter than 12" in short.stderr
    secret.write_text("et-langt-passord-for-ingen\n", encoding="utf-8")
    assert cli("user", "password", "ingen", "--password-file", secret).exit_code == 4


def test_two_different_answers_at_the_prompt_change_nothing(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("user", "add", "kari", "--role", "auditor").exit_code == 0
    answers = iter(["et-langt-passord-en", "et-langt-passord-to"])
    monkeypatch.setattr(getpass, "getpass", lambda _prompt="": next(answers))
    differ = cli("user", "password", "kari")
    assert differ.exit_code == 2
    assert "differ" in differ.stderr
    same = iter(["et-langt-passord-en", "et-langt-passord-en"])
    monkeypatch.setattr(getpass, "getpass", lambda _prompt="": next(same))
    assert cli("user", "password", "kari").exit_code == 0
