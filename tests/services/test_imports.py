"""CSV imports: all rows or none, every problem named by line and column, never by value."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from consentreg.errors import InvalidInputError
from consentreg.services import imports, people
from tests import builders
from tests.conftest import ContextFactory

PEOPLE = """ref,name,born,kind,unit
K001,Emma Sæther,2021-03-14,child,bhg
G001,Ingrid Sæther,1989-05-02,adult,
G002,Ola Sæther,1987-11-30,adult,
"""


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608


def test_people_guardians_and_consents_import_together(
    unit_of_work: ContextFactory, tmp_path: Path, engine: Engine
) -> None:
    (tmp_path / "scan.txt").write_text("signert skjema\n", encoding="utf-8")
    with unit_of_work() as ctx:
        builders.unit(ctx)
        builders.purpose(ctx)
        assert imports.import_people(ctx, write(tmp_path, "p.csv", PEOPLE)) == 3
        assert (
            imports.import_guardians(
                ctx,
                write(
                    tmp_path,
                    "g.csv",
                    "child_ref,guardian_ref,parental_responsibility\nK001,G001,yes\nK001,G002,no\n",
                ),
            )
            == 2
        )
        assert (
            imports.import_consents(
                ctx,
                write(
                    tmp_path,
                    "c.csv",
                    "subject_ref,purpose,by_ref,decision,method,given,until,evidence\n"
                    "K001,facebook,G001,grant,email,2026-09-01,,scan.txt\nK001,facebook,G002,refusal,,2026-09-02,,\n",
                ),
            )
            == 2
        )
    with unit_of_work(writer=False) as ctx:
        child = people.show_person(ctx, "ref:K001")
    assert sorted(g.parental_responsibility for g in child.guardians) == [False, True]
    assert count(engine, "consent_events") == 2
    assert count(engine, "evidence") == 1


def test_one_bad_row_imports_nothing_and_every_problem_names_line_and_column(
    unit_of_work: ContextFactory, tmp_path: Path, engine: Engine
) -> None:
    bad = PEOPLE + "K002,,2021-13-01,child,\nK001,Nora Ødegård,2022-01-20,pupil,\n"
    with unit_of_work() as ctx:
        builders.unit(ctx)
    with pytest.raises(InvalidInputError) as caught, unit_of_work() as ctx:
        imports.import_people(ctx, write(tmp_path, "p.csv", bad))
    message = str(caught.value)
    for expected in (
        "line 5, column name: is empty",
        "line 5, column born: is not a date",
        "line 6, column kind: must be child, adult or staff",
        "line 6, column ref: repeats line 2",
    ):
        assert expected in message
    assert "2021-13-01" not in message
    assert "Nora" not in message
    assert count(engine, "people") == 0


def test_a_row_the_register_refuses_rolls_back_the_rows_before_it(
    unit_of_work: ContextFactory, tmp_path: Path, engine: Engine
) -> None:
    with unit_of_work() as ctx:
        builders.unit(ctx)
        builders.purpose(ctx)
        imports.import_people(ctx, write(tmp_path, "p.csv", PEOPLE))
        guardians = "child_ref,guardian_ref\nK001,G001\n"
        imports.import_guardians(ctx, write(tmp_path, "g.csv", guardians))
    csv_text = (
        "subject_ref,purpose,by_ref,decision\nK001,facebook,G001,grant\n"
        "K001,facebook,G002,grant\n"
    )  # G002 is not K001's guardian
    with pytest.raises(InvalidInputError, match="line 3: --by"), unit_of_work() as ctx:
        imports.import_consents(ctx, write(tmp_path, "c.csv", csv_text))
    assert count(engine, "consent_events") == 0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("ref,name\nK1,Ola\n", "missing born"),
        ("ref,name,born,colour\nK1,Ola,2020-01-01,blue\n", "unknown colour"),
        ("ref,name,born\nK1,Ola,2020-01-01,extra\n", "line 2: too many fields"),
    ],
)
def test_a_malformed_file_is_refused_before_any_row(
    unit_of_work: ContextFactory, tmp_path: Path, content: str, problem: str
) -> None:
    with pytest.raises(InvalidInputError, match=problem), unit_of_work() as ctx:
        imports.import_people(ctx, write(tmp_path, "p.csv", content))


def test_unknown_refs_and_missing_evidence_are_reported_by_line(
    unit_of_work: ContextFactory, tmp_path: Path
) -> None:
    with unit_of_work() as ctx:
        builders.unit(ctx)
        builders.purpose(ctx)
        imports.import_people(ctx, write(tmp_path, "p.csv", PEOPLE))
    csv_text = (
        "subject_ref,purpose,by_ref,decision,method,given,until,evidence\n"
        "K009,facebook,G001,grant,paper,2026-09-01,,\n"
        "K001,facebook,G001,yes,fax,2026-09-01,,missing.pdf\n"
    )
    with pytest.raises(InvalidInputError) as caught, unit_of_work() as ctx:
        imports.import_consents(ctx, write(tmp_path, "c.csv", csv_text))
    message = str(caught.value)
    for expected in (
        "line 2, column subject_ref: no person has this ref",
        "line 3, column decision: must be grant or refusal",
        "line 3, column method: must be paper",
        "line 3, column evidence: file does not exist",
    ):
        assert expected in message
