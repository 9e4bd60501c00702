"""`consent evidence` and evidence in the database, through the real entry point on both
engines: a scan given with `--evidence` comes back byte for byte, never over an existing file;
tampering makes `audit verify` exit 7; `init` and `db upgrade` move old evidence files in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from consentreg.services.unit_of_work import new_id
from tests.cli.conftest import Invoke, born_years_ago
from tests.services.test_audit_verify import drop_append_only_guards

SCAN = os.urandom(3 * 1024 * 1024 // 2)  # two chunks


@pytest.fixture
def family(cli: Invoke, tmp_path: Path) -> dict[str, str]:
    notice = tmp_path / "notice.txt"
    notice.write_text("Vi publiserer bilder.\n", encoding="utf-8")
    assert cli("purpose", "add", "facebook", "--title", "F", "--notice-file", notice).exit_code == 0
    ids = {
        "child": cli("person", "add", "--name", "Emma Nordmann", "--born", born_years_ago(5)),
        "mother": cli(
            "person", "add", "--name", "Åse Nordmann", "--born", "1988-01-01", "--kind", "adult"
        ),
    }
    found = {key: result.stdout.strip() for key, result in ids.items()}
    assert cli("guardian", "add", found["child"], found["mother"]).exit_code == 0
    scan = tmp_path / "skjema.pdf"
    scan.write_bytes(SCAN)
    found["consent"] = cli(
        "consent",
        "grant",
        found["child"],
        "--purpose",
        "facebook",
        "--by",
        found["mother"],
        "--evidence",
        scan,
    ).stdout.strip()
    return found


def test_a_scan_comes_back_byte_for_byte_by_an_id_prefix(
    cli: Invoke, family: dict[str, str], home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "tilbake.pdf"
    result = cli("--json", "consent", "evidence", family["consent"][:8], "-o", out)
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == SCAN
    assert out.stat().st_mode & 0o777 == 0o600
    assert result.json()["consent_id"] == family["consent"]
    assert not (home / "evidence").exists()
    log = cli("audit", "log").stdout
    assert "evidence.read" in log
    assert "tilbake" not in log
    assert cli("audit", "verify").exit_code == 0


def test_an_existing_file_is_never_written_over(
    cli: Invoke, family: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "taken.pdf"
    out.write_bytes(b"mine")
    result = cli("consent", "evidence", family["consent"], "-o", out)
    assert result.exit_code == 2
    assert "exists" in result.stderr
    assert out.read_bytes() == b"mine"


def test_a_consent_without_evidence_is_not_found(
    cli: Invoke, family: dict[str, str], tmp_path: Path
) -> None:
    bare = cli(
        "consent", "grant", family["child"], "--purpose", "facebook", "--by", family["mother"]
    ).stdout.strip()
    result = cli("consent", "evidence", bare, "-o", tmp_path / "x.pdf")
    assert result.exit_code == 4
    assert f"consent {bare} has no evidence" in result.stderr
    assert cli("consent", "evidence", "ab" * 16, "-o", tmp_path / "x.pdf").exit_code == 4
    assert not (tmp_path / "x.pdf").exists()


def test_a_tampered_scan_fails_audit_verify_and_is_not_written(
    cli: Invoke, family: dict[str, str], db_url: str, tmp_path: Path
) -> None:
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            drop_append_only_guards(conn, "evidence_chunks")
            conn.execute(text("DELETE FROM evidence_chunks WHERE idx = 1"))
    finally:
        engine.dispose()
    result = cli("audit", "verify")
    assert result.exit_code == 7
    assert "evidence_damaged" in result.stderr
    assert cli("consent", "evidence", family["consent"], "-o", tmp_path / "x.pdf").exit_code == 7
    assert not (tmp_path / "x.pdf").exists()


def test_init_and_db_upgrade_clear_old_evidence_leftovers_and_name_what_they_keep(
    cli: Invoke, home: Path
) -> None:
    folder = home / "evidence"
    folder.mkdir()
    leftover = folder / f"{new_id()}.bin.tmp"  # a consent never committed
    unknown = folder / f"{new_id()}.bin"
    for path in (leftover, unknown):
        path.write_bytes(b"\x01" + os.urandom(40))
    result = cli("db", "upgrade")
    assert result.exit_code == 0
    assert not leftover.exists()
    assert f"{unknown.name}: no consent in this register has this evidence" in result.stderr
    result = cli("init")
    assert result.exit_code == 0
    assert unknown.exists()
    assert "warning: evidence file left" in result.stderr
