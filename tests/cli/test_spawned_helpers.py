"""Where fork is not the start method (Windows, macOS), the helper processes are spawned: they
must get everything from their task, nothing from the command's memory (its global options
included), and answer exactly as forked helpers or no helpers do."""

from __future__ import annotations

from pathlib import Path

import pytest

import consentreg.parallel
import consentreg.services.publishing.worker_pool
from tests.cli.conftest import Invoke, born_years_ago


def _spawn_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consentreg.parallel, "default_start_method", lambda: "spawn")
    monkeypatch.setattr(
        consentreg.services.publishing.worker_pool, "default_start_method", lambda: "spawn"
    )


def test_audit_consents_and_verify_answer_the_same_with_spawned_helpers(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text("Vi publiserer bilder.\n", encoding="utf-8")
    cli("purpose", "add", "facebook", "--title", "Facebook", "--notice-file", notice)
    for i in range(5):
        cli("person", "add", "--name", f"Barn{i} Nordmann", "--born", born_years_ago(6 + i))
    alone = cli("audit", "consents", "--jobs", "1")
    _spawn_everywhere(monkeypatch)
    spawned = cli("audit", "consents", "--jobs", "3")
    assert (spawned.exit_code, spawned.stderr) == (0, "")
    assert spawned.stdout == alone.stdout
    assert spawned.stdout.count("guardian_consent_missing") == 5  # one row per child
    verified = cli("audit", "verify")
    assert verified.exit_code == 0, verified.stderr
