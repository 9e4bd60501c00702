"""`person erase` through the real entry point on both engines: what it prints, that the person
shows as "(erased)" afterwards, that nothing in CONSENTREG_HOME (database, key files, witness
folder, backups) holds their name in clear, that a backup taken before cannot be read for them,
and the exit codes of a second erasure and of a role that may not erase."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, born_years_ago

NAME = "Solveig Åkerblom-Thorsen"
WORDS = ("Solveig", "Åkerblom", "Thorsen", "kerblom")


@pytest.fixture
def family(
    cli: Invoke, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """A child with a scan of her consent (the scan holds her name), a withdrawal reason and a
    correction naming her, her mother; a witness folder and the person keys file in the home
    folder, and a backup taken before anything is erased."""
    backups = home / "backups"
    backups.mkdir()
    monkeypatch.setenv("CONSENTREG_BACKUP_KEYS", str(backups / "person-keys.crkeys"))
    (home / "witness").mkdir()
    monkeypatch.setenv("CONSENTREG_WITNESS_DIR", str(home / "witness"))
    notice = tmp_path / "notice.txt"
    notice.write_text("Vi publiserer bilder.\n", encoding="utf-8")
    assert cli("purpose", "add", "web", "--title", "Web", "--notice-file", notice).exit_code == 0
    child = cli("person", "add", "--name", "Solveig Akerblom", "--born", born_years_ago(5))
    mother = cli("person", "add", "--name", "Kari Holm", "--born", "1988-01-01", "--kind", "adult")
    ids = {"child": child.stdout.strip(), "mother": mother.stdout.strip()}
    fixed = cli("person", "correct", ids["child"], "--name", NAME, "--ref", "E-77")
    assert fixed.exit_code == 0, fixed.stderr
    assert cli("guardian", "add", ids["child"], ids["mother"]).exit_code == 0
    scan = tmp_path / "skjema.txt"
    scan.write_text(f"Samtykke for {NAME}\n", encoding="utf-8")
    grant = cli(
        "consent", "grant", ids["child"], "--purpose", "web", "--by", ids["mother"],
        "--evidence", scan,
    )  # fmt: skip
    assert grant.exit_code == 0, grant.stderr
    ids["consent"] = grant.stdout.strip()
    withdrawal = cli("consent", "withdraw", ids["consent"], "--reason", f"{NAME} flyttet")
    assert withdrawal.exit_code == 0, withdrawal.stderr
    assert cli("audit", "checkpoint").exit_code == 0
    backed = cli("backup", "-o", backups / "before.crbackup")
    assert backed.exit_code == 0, backed.stderr
    assert "person keys written to" in backed.stdout
    return ids


def _files_holding(folder: Path, words: tuple[str, ...]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {w}" for w in words if w.encode() in data]
    return found


def test_an_erased_person_is_unreadable_everywhere_and_the_log_verifies(
    cli: Invoke, family: dict[str, str], home: Path, tmp_path: Path
) -> None:
    child = family["child"]
    scan_out = tmp_path / "before.txt"
    assert cli("consent", "evidence", family["consent"], "-o", scan_out).exit_code == 0
    assert NAME in scan_out.read_text(encoding="utf-8")
    erased = cli("person", "erase", "ref:E-77")
    assert erased.exit_code == 0, erased.stderr
    assert erased.stdout.splitlines()[0] == f"{child} erased"
    assert "take-down list: nothing of the person was released" in erased.stderr
    assert "person-keys.crkeys rewritten without the person's key" in erased.stderr
    shown = cli("--json", "person", "show", child).json()
    assert (shown["name"], shown["born"], shown["erased"]) == ("(erased)", None, True)
    assert "(erased)" in cli("person", "show", child).stdout
    assert child not in cli("person", "list", "--name", "Solveig").stdout
    assert cli("person", "show", "ref:E-77").exit_code == 4
    assert (
        cli("consent", "evidence", family["consent"], "-o", tmp_path / "after.txt").exit_code == 2
    )
    assert cli("--json", "person", "show", family["mother"]).json()["name"] == "Kari Holm"
    assert cli("audit", "verify").exit_code == 0
    assert cli("audit", "checkpoint").exit_code == 0
    # the database, the key files, the witness folder and the backups: no name in clear
    assert _files_holding(home, WORDS) == []


def test_a_backup_taken_before_restores_with_the_person_erased(
    cli: Invoke,
    family: dict[str, str],
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cli("person", "erase", family["child"]).exit_code == 0
    restored = tmp_path / "restored"
    restored.mkdir(mode=0o700)
    for key in ("master.key", "signing.key"):
        (restored / key).write_bytes((home / key).read_bytes())
        (restored / key).chmod(0o600)
    monkeypatch.setenv("CONSENTREG_HOME", str(restored))
    monkeypatch.setenv("CONSENTREG_DB", f"sqlite:///{restored / 'consentreg.db'}")
    monkeypatch.delenv("CONSENTREG_WITNESS_DIR")
    keys = home / "backups" / "person-keys.crkeys"
    result = cli("restore", home / "backups" / "before.crbackup", "--keys", keys)
    assert result.exit_code == 0, result.stderr
    assert cli("--json", "person", "show", family["child"]).json()["name"] == "(erased)"
    assert cli("--json", "person", "show", family["mother"]).json()["name"] == "Kari Holm"
    assert cli("audit", "verify").exit_code == 0
    assert "person.erase" in cli("audit", "log").stdout


def test_a_second_erasure_is_refused_with_exit_2(cli: Invoke, family: dict[str, str]) -> None:
    assert cli("person", "erase", family["child"]).exit_code == 0
    again = cli("person", "erase", family["child"])
    assert again.exit_code == 2
    assert f"person {family['child']} is erased already" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL: the database login
def test_a_registrar_may_not_erase(
    cli: Invoke, family: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("unit", "add", "sol", "--name", "Sol").exit_code == 0
    assert cli("user", "add", "kari", "--role", "registrar", "--unit", "sol").exit_code == 0
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(variable, "kari")
    refused = cli("person", "erase", family["child"])
    assert refused.exit_code == 8
    assert "person.erase" in refused.stderr
