"""One register, two PCs (two homes against one database, SQLite file or PostgreSQL): the register
has an identity, a second PC joins with a passphrase-protected key export, a wrong key is refused
before anything is read or written, and any PC verifies any other's checkpoints, also against
the copy witnessed outside the database."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.cli.conftest import Invoke, Result, born_years_ago
from tests.services.test_audit_verify import tamper

PASSPHRASE = "korrekt hest batteri stift"


@pytest.fixture
def pc_b(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """The same commands from a second PC: another home folder, the same database."""

    def on_b(cli: Invoke, *args: object) -> Result:
        with monkeypatch.context() as m:
            m.setenv("CONSENTREG_HOME", str(tmp_path / "pc-b"))
            m.setenv("CONSENTREG_DB", db_url)
            return cli(*args)

    return on_b


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase.txt"
    path.write_text(PASSPHRASE + "\n")
    return path


def _export(cli: Invoke, tmp_path: Path, passphrase_file: Path) -> Path:
    out = tmp_path / "usb" / "consentreg.key"
    out.parent.mkdir(exist_ok=True)
    result = cli("key", "export", "-o", out, "--passphrase-file", passphrase_file)
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    return out


def _events(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one())
    finally:
        engine.dispose()


def _add_child(cli: Invoke) -> str:
    result = cli("person", "add", "--name", "Ola Nordmann", "--born", born_years_ago(5))
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def test_init_on_a_second_pc_never_makes_a_key_for_an_existing_register(
    cli: Invoke, pc_b: Callable[..., Result], tmp_path: Path, db_url: str
) -> None:
    _add_child(cli)
    before = _events(db_url)
    result = pc_b(cli, "init")
    assert result.exit_code == 2
    assert "consentreg join --key-file" in result.stderr
    assert not (tmp_path / "pc-b").exists()  # no key, no home: nothing written
    assert _events(db_url) == before
    assert "Ola Nordmann" in cli("person", "list").stdout  # PC A reads on as before


def test_another_registers_key_is_refused_before_any_read_or_write(
    cli: Invoke, pc_b: Callable[..., Result], tmp_path: Path, db_url: str
) -> None:
    _add_child(cli)
    other = tmp_path / "pc-b"
    other.mkdir(mode=0o700)
    # a well-formed key of another register (32 bytes, base64)
    (other / "master.key").write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    (other / "master.key").chmod(0o600)
    before = _events(db_url)
    for args in (
        ("person", "list"),
        ("person", "add", "--name", "Kari Nordmann", "--born", born_years_ago(4)),
        ("init",),
    ):
        result = pc_b(cli, *args)
        assert result.exit_code == 7, (args, result.stderr)
        assert "does not belong to register" in result.stderr
        assert "Kari" not in result.stderr
    assert _events(db_url) == before
    assert cli("person", "list").exit_code == 0


def test_a_second_pc_joins_reads_and_writes_the_same_register(
    cli: Invoke, pc_b: Callable[..., Result], tmp_path: Path, passphrase_file: Path
) -> None:
    child = _add_child(cli)
    export = _export(cli, tmp_path, passphrase_file)
    assert b"Ola" not in export.read_bytes()
    joined = pc_b(cli, "--json", "join", "--key-file", export, "--passphrase-file", passphrase_file)
    assert joined.exit_code == 0, joined.stderr
    assert joined.json()["already_joined"] is False
    key_file = tmp_path / "pc-b" / "master.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "pc-b" / "signing.key").stat().st_mode & 0o777 == 0o600
    assert "Ola Nordmann" in pc_b(cli, "person", "list").stdout
    added = pc_b(cli, "person", "add", "--name", "Kari Nordmann", "--born", born_years_ago(4))
    assert added.exit_code == 0, added.stderr
    listed = cli("person", "list").stdout  # PC A reads what PC B wrote
    assert "Kari Nordmann" in listed
    assert child[:8] in listed
    again = pc_b(cli, "join", "--key-file", export, "--passphrase-file", passphrase_file)
    assert again.exit_code == 0
    assert "already joined" in again.stdout


def test_joining_refuses_bad_input_and_writes_nothing(
    cli: Invoke, pc_b: Callable[..., Result], tmp_path: Path, passphrase_file: Path, db_url: str
) -> None:
    export = _export(cli, tmp_path, passphrase_file)
    typo = tmp_path / "typo.txt"
    typo.write_text(PASSPHRASE.replace("hest", "hets") + "\n")
    damaged = tmp_path / "damaged.key"
    data = bytearray(export.read_bytes())
    data[-10] = ord("A") if data[-10] != ord("A") else ord("B")
    damaged.write_bytes(bytes(data))
    other_register = tmp_path / "other.key"
    lines = export.read_text().splitlines()
    other_register.write_text(f"{lines[0]}\nregister {'0' * 32}\n{lines[2]}\n")
    garbage = tmp_path / "garbage.key"
    garbage.write_bytes(b"\x00\x01 not a key\n")
    before = _events(db_url)
    cases = [
        (export, typo, 2, "does not open the key file"),
        (damaged, passphrase_file, 2, "does not open the key file"),
        (other_register, passphrase_file, 7, "is for register 000000"),
        (garbage, passphrase_file, 2, "not a consentreg key export"),
        (tmp_path / "missing.key", passphrase_file, 2, "cannot be read"),
    ]
    for key_file, phrase, code, text_ in cases:
        result = pc_b(cli, "join", "--key-file", key_file, "--passphrase-file", phrase)
        assert (result.exit_code, text_ in result.stderr) == (code, True), (key_file, result)
        assert not (tmp_path / "pc-b" / "master.key").exists()
        assert not (tmp_path / "pc-b" / "signing.key").exists()
    assert _events(db_url) == before


def test_a_short_passphrase_is_refused(cli: Invoke, tmp_path: Path, passphrase_file: Path) -> None:
    short = tmp_path / "short.txt"
    short.write_text("hemmelig\n")
    result = cli("key", "export", "-o", tmp_path / "k.key", "--passphrase-file", short)
    assert result.exit_code == 2
    assert "at least 12 characters" in result.stderr
    assert not (tmp_path / "k.key").exists()
    existing = tmp_path / "exists.key"
    existing.write_text("keep me")
    result = cli("key", "export", "-o", existing, "--passphrase-file", passphrase_file)
    assert result.exit_code == 2
    assert existing.read_text() == "keep me"


def test_a_checkpoint_signed_on_one_pc_verifies_on_the_other(
    cli: Invoke, pc_b: Callable[..., Result], tmp_path: Path, passphrase_file: Path
) -> None:
    _add_child(cli)
    export = _export(cli, tmp_path, passphrase_file)
    assert (
        pc_b(cli, "join", "--key-file", export, "--passphrase-file", passphrase_file).exit_code == 0
    )
    assert pc_b(cli, "audit", "checkpoint").exit_code == 0
    assert cli("audit", "checkpoint").exit_code == 0
    for result in (cli("--json", "audit", "verify"), pc_b(cli, "--json", "audit", "verify")):
        assert result.exit_code == 0, result.stderr
        assert [c["ok"] for c in result.json()["checkpoints"]] == [True, True]


def test_a_witnessed_checkpoint_catches_a_cut_tail_whose_stored_checkpoints_were_deleted(
    cli: Invoke, tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    witness = tmp_path / "dpo-share"
    witness.mkdir()
    monkeypatch.setenv("CONSENTREG_WITNESS_DIR", str(witness))
    _add_child(cli)
    assert cli("audit", "log").exit_code == 0  # a read: an event that leaves no row
    made = cli("--json", "audit", "checkpoint")
    assert made.exit_code == 0, made.stderr
    copies = list(witness.rglob("*.checkpoint"))
    assert [str(p) for p in copies] == [made.json()["witnessed"]]
    size = made.json()["size"]
    assert cli("audit", "verify").exit_code == 0
    # the database's owner cuts the tail (the read and the checkpoint's event) and deletes the
    # stored checkpoints with it
    engine = create_engine(db_url)
    tamper(
        engine,
        "DELETE FROM audit_checkpoints",
        "DELETE FROM audit_events WHERE seq >= :k",
        k=size,
    )
    engine.dispose()
    monkeypatch.delenv("CONSENTREG_WITNESS_DIR")
    assert cli("audit", "verify").exit_code == 0  # without the witness: unnoticed, as documented
    monkeypatch.setenv("CONSENTREG_WITNESS_DIR", str(witness))
    result = cli("audit", "verify")
    assert result.exit_code == 7
    assert "checkpoint_truncation" in result.stderr


def test_evidence_recorded_on_one_pc_is_read_back_on_the_other(
    cli: Invoke, pc_b: Callable[..., Result], tmp_path: Path, passphrase_file: Path
) -> None:
    child = _add_child(cli)
    mother = cli(
        "person", "add", "--name", "Kari Nordmann", "--born", "1988-01-01", "--kind", "adult"
    )
    assert cli("guardian", "add", child, mother.stdout.strip()).exit_code == 0
    notice = tmp_path / "notice.txt"
    notice.write_text("Vi publiserer bilder.\n")
    assert cli("purpose", "add", "web", "--title", "Web", "--notice-file", notice).exit_code == 0
    scan = tmp_path / "skjema.pdf"
    scan.write_bytes(b"%PDF-1.4 signert av mor\n" * 50)
    grant = cli(
        "consent", "grant", child, "--purpose", "web", "--by", mother.stdout.strip(),
        "--evidence", scan,
    )  # fmt: skip
    assert grant.exit_code == 0, grant.stderr
    export = _export(cli, tmp_path, passphrase_file)
    assert (
        pc_b(cli, "join", "--key-file", export, "--passphrase-file", passphrase_file).exit_code == 0
    )
    copy = tmp_path / "copy.pdf"
    read = pc_b(cli, "consent", "evidence", grant.stdout.strip()[:8], "-o", copy)
    assert read.exit_code == 0, read.stderr
    assert copy.read_bytes() == scan.read_bytes()
    assert not list((tmp_path / "pc-b").rglob("*.bin"))  # nothing kept in PC B's home
