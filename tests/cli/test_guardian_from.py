"""`guardian add --from DATE`: a guardianship that began after the birth counts from that day,
for `person show --at` as for the gate; bad starts are exit 2."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.cli.conftest import Invoke, born_years_ago, today


@pytest.fixture
def family(cli: Invoke) -> dict[str, str]:
    ids = {}
    for key, name, born, kind in (
        ("child", "Emma Nordmann", born_years_ago(5), "child"),
        ("mother", "Åse Nordmann", born_years_ago(35), "adult"),
        ("bonus", "Ola Bonus", born_years_ago(40), "adult"),
    ):
        added = cli("person", "add", "--name", name, "--born", born, "--kind", kind)
        assert added.exit_code == 0, added.stderr
        ids[key] = added.stdout.strip()
    assert cli("guardian", "add", ids["child"], ids["mother"]).exit_code == 0
    return ids


def test_a_guardian_from_a_later_day_is_not_shown_before_it(
    cli: Invoke, family: dict[str, str]
) -> None:
    start = today() - timedelta(days=10)
    added = cli("guardian", "add", family["child"], family["bonus"], "--from", start.isoformat())
    assert added.exit_code == 0, added.stderr
    before = (start - timedelta(days=1)).isoformat()
    then = cli("--json", "person", "show", family["child"], "--at", before).json()
    now = cli("--json", "person", "show", family["child"]).json()
    assert [g["person_id"] for g in then["guardians"]] == [family["mother"]]
    assert {g["person_id"] for g in now["guardians"]} == {family["mother"], family["bonus"]}
    assert "Ola Bonus" not in cli("person", "show", family["child"], "--at", before).stdout
    assert cli("audit", "verify").exit_code == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (born_years_ago(6), "--from is before the birth date"),
        ("01.02.2024", "--from: not a date"),
    ],
)
def test_a_start_before_the_birth_or_not_a_date_is_exit_2_and_writes_nothing(
    cli: Invoke, family: dict[str, str], value: str, message: str
) -> None:
    result = cli("guardian", "add", family["child"], family["bonus"], "--from", value)
    assert result.exit_code == 2
    assert message in result.stderr
    shown = cli("--json", "person", "show", family["child"]).json()
    assert [g["person_id"] for g in shown["guardians"]] == [family["mother"]]
