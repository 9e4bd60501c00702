"""`import people --update`: a corrected file becomes corrections (history kept), unchanged rows
are left alone, and a bad row (a ref nobody has) aborts the whole file naming line and column."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from consentreg.db.models import PersonCorrection
from consentreg.errors import InvalidInputError, NotPermittedError
from consentreg.services import access, imports, people, units
from consentreg.services.audit.events import read_log
from consentreg.services.audit.verify import verify_log
from consentreg.services.people_update import update_people
from tests.conftest import ContextFactory

PEOPLE = """ref,name,born,kind,unit
K001,Emma Sæther,2021-03-14,child,bhg
K002,Jonas Berg,2020-06-01,child,bhg
K003,Mia Lund,2019-01-20,child,bhg
G001,Ingrid Sæther,1989-05-02,adult,
"""

# as Norwegian Excel saves the corrected sheet: `;`, dd.mm.yyyy, cp1252, bokmål headings
CORRECTED = (
    "referanse;navn;fødselsdato;type;avdeling\r\n"
    "K001;Emma Sæther-Hansen;14.03.2021;barn;bhg\r\n"  # name
    "K002;Jonas Berg;01.07.2020;barn;skole\r\n"  # born and unit
    "K003;Mia  Lund;20.01.2019;barn;bhg\r\n"  # the same (white space folded)
    "G001;Ingrid Sæther;02.05.1989;voksen;\r\n"  # the same (empty unit: unchanged)
)


@pytest.fixture
def registered(unit_of_work: ContextFactory, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE, encoding="utf-8")
    with unit_of_work() as ctx:
        units.add_unit(ctx, code="bhg", name="Solsikken")
        units.add_unit(ctx, code="skole", name="Skolen")
        imports.import_people(ctx, path)
        return people.person_ids_by_ref(ctx, ["K001", "K002", "K003", "G001"])


def _write(tmp_path: Path, content: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "rettet.csv"
    path.write_bytes(content.encode(encoding))
    return path


def _corrections(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM person_corrections")).scalar_one())


def test_a_corrected_excel_file_corrects_what_changed_and_keeps_the_history(
    unit_of_work: ContextFactory, tmp_path: Path, registered: dict[str, str]
) -> None:
    with unit_of_work() as ctx:
        found = update_people(ctx, _write(tmp_path, CORRECTED, "cp1252"))
    assert (found.rows, found.unchanged) == (4, 2)
    assert [(c.line, c.ref, c.person_id, c.fields) for c in found.changed] == [
        (2, "K001", registered["K001"], ["name"]),
        (3, "K002", registered["K002"], ["born", "unit"]),
    ]
    with unit_of_work() as ctx:
        emma = people.show_person(ctx, "ref:K001")
        jonas = people.show_person(ctx, "ref:K002")
        kept = ctx.session.scalars(select(PersonCorrection.person_id)).all()
        actions = [e.action for e in read_log(ctx)]
        assert verify_log(ctx).ok
    assert emma.name == "Emma Sæther-Hansen"
    assert (jonas.born, jonas.unit) == (date(2020, 7, 1), "skole")
    assert sorted(kept) == sorted([registered["K001"], registered["K002"]])
    assert actions.count("person.correct") == 2


def test_the_same_file_again_changes_nothing(
    unit_of_work: ContextFactory, tmp_path: Path, registered: dict[str, str], engine: Engine
) -> None:
    with unit_of_work() as ctx:
        update_people(ctx, _write(tmp_path, CORRECTED))
    with unit_of_work() as ctx:
        again = update_people(ctx, _write(tmp_path, CORRECTED))
    assert (again.changed, again.unchanged) == ([], 4)
    assert _corrections(engine) == 2


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("K999;Ny Person;01.01.2020;barn;bhg", "line 3, column ref: no person has this ref"),
        ("K002;Jonas Berg;31.02.2020;barn;bhg", "line 3, column born: is not a date"),
        ("K002;Jonas Berg;01.06.2020;barn;mars", "line 3, column unit: no unit has this code"),
        ("K002;Jonas Berg;01.06.2020;voksen;bhg", "line 3, column kind: cannot be corrected"),
        ("K002;;01.06.2020;barn;bhg", "line 3, column name: is empty"),
        ("K001;Emma Sæther;14.03.2021;barn;bhg", "line 3, column ref: repeats line 2"),
    ],
)
def test_a_bad_row_names_line_and_column_and_nothing_is_corrected(
    unit_of_work: ContextFactory,
    tmp_path: Path,
    registered: dict[str, str],
    engine: Engine,
    row: str,
    problem: str,
) -> None:
    content = "ref;name;born;kind;unit\nK001;Emma Hansen;14.03.2021;barn;bhg\n" + row + "\n"
    with (
        pytest.raises(InvalidInputError, match=problem) as raised,
        unit_of_work() as ctx,
    ):
        update_people(ctx, _write(tmp_path, content))
    assert "nothing imported" in str(raised.value)
    assert "Jonas" not in str(raised.value)
    assert "Emma" not in str(raised.value)
    assert _corrections(engine) == 0
    with unit_of_work() as ctx:
        assert people.show_person(ctx, "ref:K001").name == "Emma Sæther"


def test_an_auditor_may_not_update(
    unit_of_work: ContextFactory, tmp_path: Path, registered: dict[str, str], engine: Engine
) -> None:
    with unit_of_work() as ctx:
        access.add_user(ctx, login="tester", role="admin")
        access.add_user(ctx, login="dpo", role="auditor")
    with (
        pytest.raises(NotPermittedError, match="user dpo \\(role auditor\\)"),
        unit_of_work(actor="dpo") as ctx,
    ):
        update_people(ctx, _write(tmp_path, CORRECTED))
    assert _corrections(engine) == 0
