"""Input the register cannot store, through the real entry point on both engines: refused alike
with exit 2 in one line naming the field, and nothing written (before, PostgreSQL failed with a
driver error, exit 1, and SQLite stored a 120,000-character title). Evidence that is no document.
And the take-down list of `consent withdraw` is data: on stdout, so that `> file` keeps it."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image

from tests.faults.conftest import Invoke, one_error_line


@pytest.fixture
def notice(tmp_path: Path) -> Path:
    path = tmp_path / "notice.txt"
    path.write_text("Vi publiserer bilder.\n", encoding="utf-8")
    return path


def _nothing_written(cli: Invoke) -> None:
    assert cli("--json", "purpose", "list").json() == {"purposes": []}
    assert cli("audit", "verify").exit_code == 0
    events = cli("--json", "audit", "log").json()["events"]
    # only `init`'s: the register's identity, its first admin and this PC's signing key
    assert [e["action"] for e in events] == ["register.create", "user.add", "register.trust_key"]


def test_a_title_of_201_characters_is_refused_alike_on_both_engines(
    cli: Invoke, notice: Path
) -> None:
    result = cli("purpose", "add", "web", "--title", "T" * 201, "--notice-file", notice)
    line = one_error_line(result, 2, "--title is longer than 200 characters")
    assert "T" * 201 not in line
    _nothing_written(cli)


def test_a_title_of_120000_characters_is_refused_alike_on_both_engines(
    cli: Invoke, notice: Path
) -> None:
    result = cli("purpose", "add", "web", "--title", "T" * 120_000, "--notice-file", notice)
    one_error_line(result, 2, "--title is longer than 200 characters")
    _nothing_written(cli)


def test_a_nul_in_a_notice_file_is_refused_alike_on_both_engines(
    cli: Invoke, tmp_path: Path
) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_bytes(b"Vi publiserer bilder.\x00Samtykket kan trekkes.\n")
    result = cli("purpose", "add", "web", "--title", "Web", "--notice-file", notice)
    one_error_line(result, 2, "the notice text contains a NUL character")
    _nothing_written(cli)


def test_a_control_character_in_a_unit_name_is_refused(cli: Invoke) -> None:
    one_error_line(
        cli("unit", "add", "bhg", "--name", "Sol\x1b[2Jsikken"),
        2,
        "--name contains a control character (U+001B)",
    )
    assert cli("--json", "unit", "list").json() == {"units": []}


@pytest.fixture
def family(cli: Invoke, notice: Path) -> dict[str, str]:
    assert cli("unit", "add", "bhg", "--name", "Solsikken").exit_code == 0
    assert cli("purpose", "add", "facebook", "--title", "F", "--notice-file", notice).exit_code == 0
    born = (date.today() - timedelta(days=5 * 365)).isoformat()
    ids = {
        "child": cli("person", "add", "--name", "Emma Nordmann", "--born", born).stdout.strip(),
        "mother": cli(
            "person", "add", "--name", "Mor Nordmann", "--born", "1988-01-01", "--kind", "adult"
        ).stdout.strip(),
    }
    assert cli("guardian", "add", ids["child"], ids["mother"]).exit_code == 0
    return ids


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "skjema.pdf"
    path.touch()
    return path


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "skjema.pdf"
    os.mkfifo(path)  # nobody writes to it: reading would wait for ever
    return path


def _over_the_limit(tmp_path: Path) -> Path:
    path = tmp_path / "skjema.pdf"
    with path.open("wb") as fh:
        fh.truncate(100 * 1024 * 1024 + 1)  # sparse
    return path


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (_empty, "is empty"),
        (lambda _: Path("/proc/self/environ"), "is under /proc: not a document"),
        (lambda _: Path("/dev/zero"), "is under /dev: not a document"),
        (lambda tmp: tmp, "is not a regular file (a folder, a device or a pipe)"),
        (_fifo, "is not a regular file (a folder, a device or a pipe)"),
        (_over_the_limit, "is larger than 100 MB, the limit for evidence"),
    ],
    ids=["empty", "proc-environ", "dev-zero", "folder", "fifo", "too-large"],
)
def test_evidence_that_is_no_document_is_refused_and_no_consent_recorded(
    cli: Invoke, family: dict[str, str], tmp_path: Path, make: object, problem: str
) -> None:
    evidence = make(tmp_path)  # type: ignore[operator]
    result = cli(
        "consent",
        "grant",
        family["child"],
        "--purpose",
        "facebook",
        "--by",
        family["mother"],
        "--evidence",
        evidence,
    )
    one_error_line(result, 2, f"evidence file {evidence} {problem}")
    assert cli("--json", "consent", "list").json() == {"consents": []}


def test_withdraw_prints_the_take_down_list_on_stdout(
    cli: Invoke, family: dict[str, str], tmp_path: Path
) -> None:
    given = (date.today() - timedelta(days=1)).isoformat()
    consent = cli(
        "consent",
        "grant",
        family["child"],
        "--purpose",
        "facebook",
        "--by",
        family["mother"],
        "--given",
        given,
    ).stdout.strip()
    photo = tmp_path / "foto.jpg"
    Image.new("RGB", (800, 600), (90, 140, 200)).save(photo, quality=90)
    added = cli("photo", "add", photo, "--photographer", "Kari", "--subject", family["child"])
    assert cli("photo", "complete", added.stdout.strip()).exit_code == 0
    released = cli("--json", "publish", photo, "--purpose", "facebook", "--out", tmp_path / "o")
    publication = released.json()["results"][0]["publication_id"]

    result = cli("consent", "withdraw", consent, "--reason", "e-post fra mor")

    assert result.exit_code == 0
    withdrawal, header, row = result.stdout.splitlines()
    assert len(withdrawal) == 32
    assert header.split() == ["PUBLICATION", "PURPOSE", "OUTPUT", "RELEASED", "PHOTO", "PEOPLE"]
    assert row.split()[:2] == [publication, "facebook"]
    assert row.endswith(f"({family['child'][:8]})")  # the child by name beside the ID
    assert result.stderr == (
        "take-down list: 1 release(s) to take down, listed on stdout under the withdrawal's ID\n"
    )


def test_withdraw_with_nothing_released_prints_only_its_id(
    cli: Invoke, family: dict[str, str]
) -> None:
    consent = cli(
        "consent", "grant", family["child"], "--purpose", "facebook", "--by", family["mother"]
    ).stdout.strip()
    result = cli("consent", "withdraw", consent)
    assert result.exit_code == 0
    assert len(result.stdout.strip()) == 32
    assert "\n" not in result.stdout.strip()
    assert result.stderr == "take-down list: nothing was released relying on this consent\n"
