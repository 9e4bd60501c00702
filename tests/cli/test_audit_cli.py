"""The audit, export and report commands through the real entry point, on SQLite and
PostgreSQL: exit codes (0, 2, 4, 7), one JSON document with --json, files written private."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import sqlite3
import stat
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import make_url, text

from consentreg.db.engine import _PG_WRITER_LOCK as WRITER_LOCK
from consentreg.db.engine import make_engine
from consentreg.parallel import Helpers
from tests.cli.conftest import Invoke, Result, born_years_ago, school_year_start, today
from tests.services.test_audit_verify import drop_append_only_guards

NOTICE = "Vi publiserer bilder på Facebook-siden til Solsikken barnehage.\n"


def _id(result: Result) -> str:
    out = result.stdout.strip()
    assert len(out) == 32, out
    return out


@pytest.fixture
def scenario(cli: Invoke, tmp_path: Path) -> dict[str, str]:
    """A child of unit bhg whose mother consented, in a photo released to facebook."""
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE, encoding="utf-8")
    cli("unit", "add", "bhg", "--name", "Solsikken")
    cli("purpose", "add", "facebook", "--title", "Facebook", "--notice-file", notice)
    child = _id(cli("person", "add", "--name", "Emma Nordmann", "--born", born_years_ago(5),
                    "--unit", "bhg", "--ref", "K001"))  # fmt: skip
    mother = _id(cli("person", "add", "--name", "Åse Nordmann", "--born", "1988-01-01",
                     "--kind", "adult"))  # fmt: skip
    cli("guardian", "add", child, mother)
    consent = _id(cli("consent", "grant", child, "--purpose", "facebook", "--by", mother,
                      "--given", school_year_start().isoformat()))  # fmt: skip
    photo_path = tmp_path / "IMG_Emma.jpg"
    Image.new("RGB", (300, 200), (200, 120, 40)).save(photo_path, "JPEG")
    photo = _id(cli("photo", "add", photo_path, "--photographer", "Kari Lærer",
                    "--subject", child, "--complete"))  # fmt: skip
    released = cli("--json", "publish", photo_path, "--purpose", "facebook", "--out",
                   tmp_path / "out")  # fmt: skip
    assert released.exit_code == 0, released.stderr
    return {"child": child, "mother": mother, "consent": consent, "photo": photo}


def tamper(db_url: str, statement: str, **params: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        for table in ("audit_events", "consent_events"):
            drop_append_only_guards(conn, table)
        conn.execute(text(statement), params)
    engine.dispose()


def test_a_clean_register_verifies_with_exit_0_and_one_json_document(
    cli: Invoke, scenario: dict[str, str]
) -> None:
    plain = cli("audit", "verify")
    assert plain.exit_code == 0, plain.stderr
    assert "chain intact" in plain.stdout
    document = cli("--json", "audit", "verify").json()
    assert document["ok"] is True
    assert document["findings"] == []
    assert document["unanchored"] == document["size"]


def test_tampering_exits_7_naming_the_seq_and_never_a_name(
    cli: Invoke, scenario: dict[str, str], db_url: str
) -> None:
    tamper(
        db_url, "UPDATE consent_events SET kind = 'refusal' WHERE id = :c", c=scenario["consent"]
    )
    result = cli("audit", "verify")
    assert result.exit_code == 7
    assert result.stdout == ""
    assert result.stderr.startswith("Error: audit verification failed at seq ")
    assert f"consent_events.kind of row {scenario['consent']}" in result.stderr
    as_json = cli("--json", "audit", "verify")
    assert as_json.json()["error"]["exit_code"] == 7
    for name in ("Emma", "Nordmann", "Åse", "Kari"):
        assert name not in result.stderr + as_json.stdout


def test_a_kept_checkpoint_and_public_key_reveal_a_truncated_log(
    cli: Invoke, scenario: dict[str, str], db_url: str, tmp_path: Path
) -> None:
    kept, pub = tmp_path / "dpo" / "kept.checkpoint", tmp_path / "dpo" / "consentreg.pub"
    kept.parent.mkdir()
    assert cli("audit", "public-key", "-o", pub).exit_code == 0
    made = cli("--json", "audit", "checkpoint", "-o", kept)
    assert made.exit_code == 0, made.stderr
    assert made.json()["note"] == kept.read_text(encoding="utf-8")
    assert kept.read_text(encoding="utf-8").splitlines()[1] == str(made.json()["size"])
    assert cli("audit", "verify", "--checkpoint", kept, "--pubkey", pub).exit_code == 0
    assert cli("audit", "log").exit_code == 0  # one more event, then cut the last three
    tamper(db_url, "DELETE FROM audit_events WHERE seq > :k", k=str(made.json()["size"] - 1))
    result = cli("audit", "verify", "--checkpoint", kept, "--pubkey", pub)
    assert result.exit_code == 7
    assert "checkpoint_truncation" in result.stderr


def test_the_public_key_prints_alone_and_a_missing_checkpoint_file_is_a_usage_error(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    key = cli("audit", "public-key").stdout.strip()
    assert key.startswith("consentreg/")
    assert key.count("+") >= 2
    missing = cli("audit", "verify", "--checkpoint", tmp_path / "nope")
    assert missing.exit_code == 2


def test_a_tampered_register_gets_no_checkpoint(
    cli: Invoke, scenario: dict[str, str], db_url: str
) -> None:
    tamper(db_url, "UPDATE people SET kind = 'staff' WHERE id = :c", c=scenario["child"])
    result = cli("audit", "checkpoint")
    assert result.exit_code == 7
    assert "refusing to sign" in result.stderr


def test_consents_come_as_a_table_as_csv_or_as_json(cli: Invoke, scenario: dict[str, str]) -> None:
    table = cli("audit", "consents", "--unit", "bhg")
    assert table.exit_code == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == [
        "SUBJECT",
        "PURPOSE",
        "ALLOWED",
        "REASONS",
        "DECISIONS",
    ]
    rows = list(csv.DictReader(io.StringIO(cli("audit", "consents", "--format", "csv").stdout)))
    mine = [r for r in rows if r["subject"] == scenario["child"]]
    assert [(r["allowed"], r["role"], r["consenter"], r["decision"]) for r in mine] == [
        ("True", "guardian", scenario["mother"], "grant")
    ]
    yesterday = (today() - timedelta(days=1)).isoformat()  # before anyone was registered
    as_of = json.loads(cli("audit", "consents", "--format", "json", "--as-of", yesterday).stdout)
    assert as_of["standings"] == []
    now = cli("audit", "consents", "--purpose", "facebook", "--format", "json").json()
    (child,) = [s for s in now["standings"] if s["subject_id"] == scenario["child"]]
    assert (child["purpose"], child["allowed"], child["reasons"]) == ("facebook", True, [])
    ((decision),) = child["decisions"]
    assert (decision["role"], decision["consenter_id"], decision["kind"]) == (
        "guardian",
        scenario["mother"],
        "grant",
    )
    assert decision["consent_id"]
    assert decision["notice_version"] == 1
    again = cli("--json", "audit", "consents", "--purpose", "facebook").json()
    assert again["standings"] == now["standings"]


def test_consents_read_by_several_processes_print_exactly_what_one_prints(
    cli: Invoke, scenario: dict[str, str], db_url: str
) -> None:
    """Thirty children with guardians and decisions of every kind, read in one to four slices:
    every format prints the same text, and the look is recorded once, naming everyone. One of
    them, restricted and refused, has the longest reasons: only its slice's cells are that wide,
    and every slice's table lines are padded as wide."""
    for n in range(30):
        child = _id(cli("person", "add", "--name", f"Barn {n}", "--born", born_years_ago(6),
                        "--unit", "bhg"))  # fmt: skip
        for g in range(n % 3):
            guardian = _id(cli("person", "add", "--name", f"Forelder {n}-{g}",
                               "--born", "1985-01-01", "--kind", "adult"))  # fmt: skip
            cli("guardian", "add", child, guardian)
            verb = ("grant", "refuse")[(n + g) % 2]
            cli("consent", verb, child, "--purpose", "facebook", "--by", guardian,
                "--given", school_year_start().isoformat())  # fmt: skip
    cli("person", "restrict", child, "--reason", "sperret adresse")  # the last child: refused
    next_school_year = school_year_start().replace(year=school_year_start().year + 1)
    as_of = ("--as-of", next_school_year.isoformat())  # every grant has run out
    for fmt in ("table", "csv", "json"):
        one = cli("audit", "consents", "--format", fmt, *as_of, "--jobs", "1")
        assert one.exit_code == 0, one.stderr
        assert "protected_identity" in one.stdout
        for jobs in ("2", "4"):
            assert cli("audit", "consents", "--format", fmt, *as_of, "--jobs", jobs) == one
    rows = list(csv.DictReader(io.StringIO(cli("audit", "consents", "--format", "csv",
                                                *as_of, "--jobs", "3").stdout)))  # fmt: skip
    assert {r["decision"] for r in rows} == {"grant", "refusal", ""}
    engine = make_engine(db_url)
    with engine.connect() as conn:
        people = sorted(conn.execute(text("SELECT id FROM people")).scalars())
        (ids,) = conn.execute(
            text("SELECT object_ids FROM audit_events ORDER BY seq DESC LIMIT 1")
        ).one()
    engine.dispose()
    assert json.loads(ids)["subjects"] == people  # everyone in the answer, in its order


def _writer_lock_taken(db_url: str) -> bool:
    """Could another writer start now? (No wait: SQLite with no busy timeout, the PostgreSQL
    advisory lock tried, not awaited.)"""
    if db_url.startswith("sqlite"):
        return _sqlite_writer_locked(str(make_url(db_url).database))
    engine = make_engine(db_url)
    with engine.begin() as conn:
        free = conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": WRITER_LOCK})
        taken = not free.scalar()
    engine.dispose()
    return taken


def _sqlite_writer_locked(path: str) -> bool:
    lite = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        lite.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc)
    finally:
        lite.close()
    return False


def test_helpers_read_only_while_the_command_holds_the_writer_lock(
    cli: Invoke, scenario: dict[str, str], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No writer may commit while the slices are read, or they would show different registers:
    the lock is held when the tasks go out, even when no purpose or unit was looked up."""
    seen: list[bool] = []
    hand_out = Helpers.run

    def run(self: Helpers, tasks: Sequence[Any]) -> Callable[[], list[Any]]:
        seen.append(_writer_lock_taken(db_url))
        return hand_out(self, tasks)

    monkeypatch.setattr(Helpers, "run", run)
    assert cli("audit", "consents", "--jobs", "2").exit_code == 0
    assert seen == [True]
    assert not _writer_lock_taken(db_url)  # and released when the command ends


def test_verify_reads_without_holding_up_registrars(
    cli: Invoke, scenario: dict[str, str], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole municipality takes `audit verify` most of a minute: no writer lock meanwhile."""
    from consentreg.services.audit import verify as audit_verify

    seen: list[bool] = []
    check_checkpoints = audit_verify._check_checkpoints  # after every table was read

    def checkpoints(*args: Any, **kwargs: Any) -> Any:
        seen.append(_writer_lock_taken(db_url))
        return check_checkpoints(*args, **kwargs)

    monkeypatch.setattr(audit_verify, "_check_checkpoints", checkpoints)
    result = cli("audit", "verify")
    assert result.exit_code == 0, result.stderr
    assert seen == [False]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("audit", "consents", "--format", "xml"), 2),
        (("audit", "consents", "--as-of", "2026-02-30"), 2),
        (("audit", "consents", "--purpose", "instagram"), 2),
        (("audit", "consents", "--purpose", "instagram", "--jobs", "3"), 2),
        (("audit", "consents", "--jobs", "0"), 2),
        (("audit", "subject", "ref:K999"), 4),
        (("audit", "photo", "0" * 32), 4),
        (("export", "subject", "0" * 32), 4),
        (("report", "coverage", "--unit", "nope", "-o", "x.html"), 2),
    ],
)
def test_bad_input_exits_2_and_unknown_ids_exit_4(
    cli: Invoke, scenario: dict[str, str], args: tuple[str, ...], code: int
) -> None:
    result = cli(*args)
    assert result.exit_code == code
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")


def test_subject_photo_publications_and_log_views_answer_by_id(
    cli: Invoke, scenario: dict[str, str]
) -> None:
    subject = cli("--json", "audit", "subject", "ref:K001").json()
    assert subject["person"]["id"] == scenario["child"]
    assert [c["id"] for c in subject["consents"]] == [scenario["consent"]]
    photo = cli("audit", "photo", scenario["photo"])
    assert photo.exit_code == 0
    assert f"tag photo_id={scenario['photo']}" in photo.stdout
    publications = cli("--json", "audit", "publications", "--purpose", "facebook").json()
    assert [p["decision"] for p in publications["publications"]] == ["released"]
    log = cli("--json", "audit", "log", "--since", "2000-01-01").json()
    assert [e["action"] for e in log["events"][:4]] == [
        "register.create",
        "user.add",
        "register.trust_key",
        "unit.add",
    ]
    for name in ("Emma", "Nordmann", "Kari"):
        assert name not in json.dumps([subject, publications, log]) + photo.stdout


def test_export_prints_the_whole_document_or_writes_it_private(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    document = cli("--json", "export", "subject", "ref:K001").json()
    assert document["subject"]["name"] == "Emma Nordmann"
    assert document["consent_records"][0]["dpv:hasConsentStatus"] == "dpv:ConsentGiven"
    target = tmp_path / "innsyn.json"
    written = cli("export", "subject", "ref:K001", "-o", target)
    assert written.exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text(encoding="utf-8"))["subject"]["name"] == "Emma Nordmann"


def test_report_coverage_writes_a_private_html_page(
    cli: Invoke, scenario: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "dekning.html"
    result = cli("--json", "report", "coverage", "--unit", "bhg", "-o", target)
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert {k: document[k] for k in ("file", "format", "people", "purposes", "allowed")} == {
        "file": str(target),
        "format": "html",
        "people": 1,
        "purposes": 1,
        "allowed": 1,
    }
    (unit,) = document["units"]
    assert unit["unit"] == "bhg"
    assert [s["id"] for s in unit["subjects"]] == [scenario["child"]]
    assert "Emma" not in result.stdout  # the JSON is by ID: names stay in the page
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    page = target.read_text(encoding="utf-8")
    assert "Emma Nordmann" in page
    assert "Kan publiseres" in page
    assert "@media print" in page
    bad = cli("report", "coverage", "--format", "docx", "-o", tmp_path / "x.docx")
    assert bad.exit_code == 2
    assert "--format must be html or pdf" in bad.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_consents_on_a_missing_register_says_so_whatever_the_jobs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    jobs: str,
) -> None:
    """With helpers, `audit consents` loads the database stack before forking them, so a register
    that is not there is found missing at that step: the user sees the same plain error as without
    helpers (exit 2, no traceback) and no helper is left running."""
    from cli.main import run

    monkeypatch.setenv("CONSENTREG_HOME", str(tmp_path / "never-initialised"))
    monkeypatch.delenv("CONSENTREG_DB", raising=False)
    monkeypatch.delenv("CONSENTREG_KEY_FILE", raising=False)
    with pytest.raises(SystemExit) as exit_:
        run(["audit", "consents", "--jobs", jobs])
    out, err = capsys.readouterr()
    assert exit_.value.code == 2
    assert out == ""
    assert err.startswith("Error: no register at ")
    assert "consentreg init" in err
    assert "Traceback" not in err
    assert multiprocessing.active_children() == []
