"""`person correct`, `person leave`, `person list --all`, likely duplicates in `person add` and
`import people`, `report retention` and `audit subject --as-of` through the real entry point:
what they print and their exit codes for bad input."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, born_years_ago, today


@pytest.fixture
def child(cli: Invoke) -> str:
    for code in ("bhg", "skole"):
        assert cli("unit", "add", code, "--name", code.title()).exit_code == 0
    added = cli(
        "person",
        "add",
        "--name",
        "Emma Nordmann",
        "--born",
        born_years_ago(5),
        "--unit",
        "bhg",
        "--ref",
        "K001",
    )
    assert added.exit_code == 0, added.stderr
    return added.stdout.strip()


def test_a_correction_prints_what_it_corrected_and_the_person_shows_it(
    cli: Invoke, child: str
) -> None:
    result = cli(
        "person", "correct", child[:8], "--unit", "skole", "--name", "Emma Nordman", "--ref", "K2"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().endswith(f"corrected name,ref,unit of {child}")
    shown = cli("--json", "person", "show", "ref:K2").json()
    assert (shown["id"], shown["name"], shown["unit"]) == (child, "Emma Nordman", "skole")
    assert cli("person", "list", "--name", "nordman").stdout.count(child) == 1
    assert cli("person", "list", "--name", "nordmann").stdout.count(child) == 0
    history = cli("--json", "audit", "subject", child).json()
    (correction,) = history["corrections"]
    assert correction["fields"] == ["name", "ref", "unit"]
    assert correction["old_unit"] == "bhg"
    assert "Emma" not in str(history)


def test_the_unit_as_of_an_earlier_instant_is_the_old_one(cli: Invoke, child: str) -> None:
    assert cli("person", "correct", child, "--unit", "skole").exit_code == 0
    yesterday = (today() - timedelta(days=1)).isoformat()
    assert cli("--json", "audit", "subject", child).json()["person"]["unit"] == "skole"
    assert cli("audit", "subject", child, "--as-of", yesterday).exit_code == 4  # not yet added
    assert cli("audit", "verify").exit_code == 0


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("person", "correct", "0" * 32, "--name", "Ola"), 4, "unknown person"),
        (("person", "correct", "{child}"), 2, "nothing to correct"),
        (("person", "correct", "{child}", "--unit", "bhg"), 2, "already has these values"),
        (("person", "correct", "{child}", "--born", "2021-02-30"), 2, "--born"),
        (("person", "correct", "{child}", "--born", "yesterday"), 2, "--born"),
        (("person", "correct", "{child}", "--unit", "nowhere"), 2, "unknown unit"),
        (("person", "leave", "0" * 32), 4, "unknown person"),
        (("person", "leave", "{child}", "--at", "someday"), 2, "invalid date"),
        (("person", "leave", "{child}", "--at", "{tomorrow}"), 2, "future"),
        (("report", "retention", "--years", "-1"), 2, "--years"),
        (
            ("person", "add", "--name", "emma  NORDMANN", "--born", "{born}", "--unit", "skole"),
            2,
            "{child} has the same name and birth date",
        ),
    ],
)
def test_bad_input_has_a_clear_error_and_exit_code(
    cli: Invoke, child: str, args: tuple[str, ...], code: int, says: str
) -> None:
    values = {
        "child": child,
        "tomorrow": (today() + timedelta(days=2)).isoformat(),
        "born": born_years_ago(5),
    }
    result = cli(*(a.format(**values) for a in args))
    assert result.exit_code == code
    assert says.format(**values) in result.stderr
    assert "Emma" not in result.stderr
    assert result.stdout == ""


def test_a_likely_duplicate_is_added_when_explicitly_allowed(cli: Invoke, child: str) -> None:
    again = ("person", "add", "--name", "Emma Nordmann", "--born", born_years_ago(5))
    result = cli(*again, "--allow-duplicate")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() != child


def test_leaving_hides_a_person_from_the_list_until_asked_and_twice_is_refused(
    cli: Invoke, child: str
) -> None:
    left = cli("person", "leave", "ref:K001", "--at", today().isoformat())
    assert left.exit_code == 0, left.stderr
    assert child not in cli("person", "list").stdout
    listed = cli("person", "list", "--all")
    assert child in listed.stdout
    assert "LEFT" in listed.stdout
    assert "left" in cli("person", "show", child).stdout
    again = cli("person", "leave", child)
    assert again.exit_code == 2
    assert "already left" in again.stderr


def test_the_retention_report_lists_those_who_left_long_ago(cli: Invoke, child: str) -> None:
    three_years_ago = born_years_ago(3)
    assert cli("person", "leave", child, "--at", three_years_ago).exit_code == 0
    text = cli("report", "retention")
    assert text.exit_code == 0
    assert child in text.stdout
    assert three_years_ago in text.stdout
    assert cli("--json", "report", "retention", "--years", "4").json()["people"] == []
    (row,) = cli("--json", "report", "retention").json()["people"]
    assert (row["id"], row["kind"], row["unit"], row["left_on"]) == (
        child,
        "child",
        "bhg",
        three_years_ago,
    )


def test_an_import_names_the_lines_of_likely_duplicates(
    cli: Invoke, child: str, tmp_path: Path
) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text(f"ref,name,born\nK9,Emma Nordmann,{born_years_ago(5)}\n", encoding="utf-8")
    refused = cli("import", "people", csv)
    assert refused.exit_code == 2
    assert f"line 2, column name: same name and birth date as person {child}" in refused.stderr
    assert cli("import", "people", csv, "--allow-duplicates").exit_code == 0
