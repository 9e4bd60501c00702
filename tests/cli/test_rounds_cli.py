"""`consentreg round ...` and `consentreg renewal` as a registrar types them: a round started,
its letters printed to a PDF, its status, a link revoked, the round closed; refusals with their
exit codes. Dates derive from today (these tests also run with the clock two years ahead)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.cli.conftest import Invoke, born_years_ago, school_year_start

NOTICE = "Vi publiserer bilder på kommunens Facebook-side.\n"
BASE = "https://samtykke.example.no"


@pytest.fixture
def kindergarten(cli: Invoke, tmp_path: Path) -> dict[str, str]:
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE, encoding="utf-8")
    assert cli("unit", "add", "bhg", "--name", "Solsikken").exit_code == 0
    assert cli("unit", "add", "tom", "--name", "Tom").exit_code == 0
    assert (
        cli("purpose", "add", "facebook", "--title", "Facebook", "--notice-file", notice).exit_code
        == 0
    )
    child = cli(
        "person", "add", "--name", "Emma Nordmann", "--born", born_years_ago(5), "--unit", "bhg"
    ).stdout.strip()
    mother = cli(
        "person", "add", "--name", "Åse Nordmann", "--born", "1988-01-01", "--kind", "adult"
    ).stdout.strip()
    assert cli("guardian", "add", child, mother).exit_code == 0
    return {"child": child, "mother": mother}


def test_a_round_is_started_printed_followed_and_closed(
    cli: Invoke, kindergarten: dict[str, str], tmp_path: Path
) -> None:
    started = cli("round", "start", "--unit", "bhg", "--purpose", "facebook")
    assert started.exit_code == 0
    round_id = started.stdout.strip()
    pdf = tmp_path / "brev.pdf"
    letters = cli("--json", "round", "letters", round_id, "-o", pdf, "--base-url", BASE)
    assert letters.exit_code == 0, letters.stderr
    links = letters.json()["links"]
    assert [(x["child"], x["recipient"]) for x in links] == [
        (kindergarten["child"], kindergarten["mother"])
    ]
    assert pdf.stat().st_mode & 0o777 == 0o600
    page = PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text()
    assert "Til Åse Nordmann" in page
    assert f"{BASE}/svar/" in page.replace("\n", "")
    assert cli("round", "letters", round_id, "-o", pdf, "--base-url", BASE).exit_code == 2
    status = cli("round", "status", round_id)
    assert status.exit_code == 0
    assert "not answered" in status.stdout
    assert "Emma Nordmann" in status.stdout
    assert cli("--json", "round", "list").json()["rounds"][0]["id"] == round_id
    assert cli("round", "revoke", links[0]["link"]).exit_code == 0
    assert cli("round", "revoke", links[0]["link"]).exit_code == 2
    assert cli("round", "close", round_id).exit_code == 0
    again = cli("round", "remind", round_id, "-o", tmp_path / "purring.pdf", "--base-url", BASE)
    assert again.exit_code == 2
    assert "closed" in again.stderr


def test_a_round_for_a_unit_without_children_and_unknown_rounds_are_refused(
    cli: Invoke,
    kindergarten: dict[str, str],  # noqa: ARG001
) -> None:
    empty = cli("round", "start", "--unit", "tom", "--purpose", "facebook")
    assert empty.exit_code == 2
    assert "no children" in empty.stderr
    assert cli("round", "status", "ffffffff").exit_code == 4
    assert cli("round", "start", "--unit", "bhg", "--purpose", "nope").exit_code == 2


def test_e_mail_without_a_configured_server_sends_nothing(
    cli: Invoke, kindergarten: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONSENTREG_SMTP_HOST", raising=False)
    round_id = cli("round", "start", "--unit", "bhg", "--purpose", "facebook").stdout.strip()
    addresses = tmp_path / "a.csv"
    addresses.write_text(f"{kindergarten['mother']},aase@example.no\n", encoding="utf-8")
    sent = cli("round", "email", round_id, "--addresses", addresses, "--base-url", BASE)
    assert sent.exit_code == 2
    assert "no SMTP server" in sent.stderr


def test_renewal_lists_consents_ending_by_31_july_and_starts_their_round(
    cli: Invoke, kindergarten: dict[str, str]
) -> None:
    given = school_year_start().isoformat()
    grant = ("consent", "grant", kindergarten["child"], "--purpose", "facebook")
    assert cli(*grant, "--by", kindergarten["mother"], "--given", given).exit_code == 0
    report = cli("--json", "renewal", "--unit", "bhg")
    assert report.exit_code == 0
    assert [e["subject_id"] for e in report.json()["ending"]] == [kindergarten["child"]]
    started = cli("--json", "renewal", "--unit", "bhg", "--start")
    assert started.exit_code == 0
    assert started.json()["round"]["purposes"] == ["facebook"]
    assert cli("renewal", "--start").exit_code == 2


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the OS login acts on SQLite
def test_a_publisher_may_not_start_a_round(
    cli: Invoke,
    kindergarten: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,  # noqa: ARG001
) -> None:
    assert cli("user", "add", "per", "--role", "publisher").exit_code == 0
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(variable, "per")
    result = cli("round", "start", "--unit", "bhg", "--purpose", "facebook")
    assert result.exit_code == 8
