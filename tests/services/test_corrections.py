"""Corrections, leaving, likely duplicates and the retention report, on SQLite and PostgreSQL:
each correction is an audit event, the as-of views read each value as it was at the instant,
the name search and references follow the corrections, and `audit verify` holds the corrections
table to the log."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from consentreg.domain.calendar import oslo_day
from consentreg.errors import DuplicatePersonError, InvalidInputError, NotFoundError
from consentreg.services import export, imports, people
from consentreg.services.audit import views as audit_views
from consentreg.services.audit.events import read_log
from consentreg.services.audit.replay import replay
from consentreg.services.audit.standing import register_at
from consentreg.services.audit.verify import VerifyReport, failure_message, verify_log
from consentreg.services.corrections import correct_person, leave_person, retention
from consentreg.services.publishing import gate as publishing
from consentreg.services.units import unit_by_code
from tests import builders
from tests.conftest import NOW, ContextFactory
from tests.services.test_audit_verify import drop_append_only_guards
from tests.services.test_audit_views import _read, _replayed
from tests.services.test_gate import add_photo, codes, jpeg, sha

DAY = timedelta(days=1)
MOVED = NOW + 10 * DAY  # the child moves from bhg to skole
MOVED_AGAIN = NOW + 20 * DAY  # ... and on to sfo


@pytest.fixture
def child(unit_of_work: ContextFactory) -> str:
    """Kari, in bhg, whose two guardians consented to facebook."""
    with unit_of_work() as ctx:
        for code in ("bhg", "skole", "sfo"):
            builders.unit(ctx, code)
        builders.purpose(ctx)
        kari = builders.person(ctx, "Kari Nordman", "2021-03-14", ref="K001", unit_code="bhg")
        for i in (1, 2):
            adult = builders.person(ctx, f"Forelder{i} Nordmann", f"1988-05-0{i}", kind="adult")
            people.add_guardian(ctx, child=kari, guardian=adult)
            builders.grant(ctx, kari, adult)
    return kari


def in_unit(unit_of_work: ContextFactory, unit: str, at: datetime) -> set[str]:
    with unit_of_work(now=MOVED_AGAIN + DAY) as ctx:
        view = audit_views.consents(ctx, unit=unit, as_of=at)
    return {s.subject_id for s in view.standings if s.unit == unit}


def test_a_correction_is_a_new_event_and_the_person_shows_the_new_values(
    unit_of_work: ContextFactory, child: str, engine: Engine
) -> None:
    with unit_of_work(now=MOVED) as ctx:
        done = correct_person(
            ctx, child[:8], name="Kari Nordmann", born=date(2021, 3, 15), ref="K009", unit="skole"
        )
    assert done.fields == ["born", "name", "ref", "unit"]
    assert done.version == 1
    with unit_of_work(writer=False) as ctx:
        shown = people.show_person(ctx, child)
    assert (shown.name, shown.born, shown.ref, shown.unit) == (
        "Kari Nordmann",
        date(2021, 3, 15),
        "K009",
        "skole",
    )
    with engine.connect() as conn:
        action, ids, payload = conn.execute(
            text("SELECT action, object_ids, payload FROM audit_events ORDER BY seq DESC")
        ).first()  # type: ignore[misc]
        stored = conn.execute(text("SELECT * FROM person_corrections")).mappings().one()
    assert action == "person.correct"
    assert json.loads(ids)["person"] == child
    assert stored["fields"] == "born,name,ref,unit"
    logged = ids + payload + repr(dict(stored))
    for secret in ("Kari", "Nordman", "2021-03-1", "K001", "K009"):
        assert secret not in logged


def test_the_name_search_finds_a_corrected_name_by_its_new_words_only(
    unit_of_work: ContextFactory, child: str
) -> None:
    with unit_of_work(now=MOVED) as ctx:
        correct_person(ctx, child, name="Kari Åsen")
    with unit_of_work(writer=False) as ctx:
        assert [p.id for p in people.list_people(ctx, name="asen")] == [child]
        assert [p.id for p in people.list_people(ctx, name="kari")] == [child]
        assert people.list_people(ctx, name="nordman") == []


def test_a_corrected_reference_is_unique_and_frees_the_old_one(
    unit_of_work: ContextFactory, child: str
) -> None:
    with unit_of_work() as ctx:
        other = builders.person(ctx, "Ola Hansen", "2020-01-01", ref="K002")
    with unit_of_work(now=MOVED) as ctx, pytest.raises(InvalidInputError, match="--ref"):
        correct_person(ctx, child, ref="K002")
    with unit_of_work(now=MOVED) as ctx:
        correct_person(ctx, child, ref="K010")
    with unit_of_work(now=MOVED) as ctx:
        assert people.resolve_person(ctx, "ref:K010").id == child
        with pytest.raises(NotFoundError):
            people.resolve_person(ctx, "ref:K001")
        correct_person(ctx, other, ref="K001")
        assert people.resolve_person(ctx, "ref:K001").id == other


@pytest.mark.parametrize(
    ("given", "error", "message"),
    [
        ({}, InvalidInputError, "nothing to correct"),
        ({"name": "Kari  Nordman", "unit": "bhg"}, InvalidInputError, "already has these"),
        ({"born": date(2021, 3, 14), "ref": "K001"}, InvalidInputError, "already has these"),
        ({"unit": "nowhere"}, InvalidInputError, "unknown unit"),
        ({"born": MOVED.date() + DAY}, InvalidInputError, "--born is in the future"),
        ({"ref": "  "}, InvalidInputError, "--ref is empty"),
        ({"name": "Kari\x07"}, InvalidInputError, "--name"),
    ],
)
def test_a_correction_that_corrects_nothing_or_is_invalid_is_refused_and_writes_nothing(
    unit_of_work: ContextFactory,
    child: str,
    engine: Engine,
    given: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    with unit_of_work(now=MOVED) as ctx, pytest.raises(error, match=message):
        correct_person(ctx, child, **given)  # type: ignore[arg-type]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM person_corrections")).scalar_one() == 0


def test_an_unknown_person_cannot_be_corrected(unit_of_work: ContextFactory, child: str) -> None:
    with unit_of_work() as ctx, pytest.raises(NotFoundError):
        correct_person(ctx, "0" * 32, name="Ola")


def test_a_child_who_moved_counts_in_the_old_unit_before_and_the_new_unit_after(
    unit_of_work: ContextFactory, child: str
) -> None:
    with unit_of_work(now=MOVED) as ctx:
        correct_person(ctx, child, unit="skole")
    with unit_of_work(now=MOVED_AGAIN) as ctx:
        correct_person(ctx, child, unit="sfo")
    before, between, after = MOVED - DAY, MOVED + DAY, MOVED_AGAIN + DAY
    assert child in in_unit(unit_of_work, "bhg", before)
    assert child not in in_unit(unit_of_work, "skole", before)
    assert child not in in_unit(unit_of_work, "bhg", between)
    assert child in in_unit(unit_of_work, "skole", between)
    assert child not in in_unit(unit_of_work, "skole", after)
    assert child in in_unit(unit_of_work, "sfo", after)
    with unit_of_work(now=after) as ctx:
        whole = audit_views.consents(ctx, as_of=between)
    assert {s.unit for s in whole.standings if s.subject_id == child} == {"skole"}


def test_a_subjects_history_shows_the_unit_of_each_instant_and_each_correction(
    unit_of_work: ContextFactory, child: str
) -> None:
    with unit_of_work(now=MOVED) as ctx:
        correct_person(ctx, child, unit="skole", name="Kari Nordmann")
    with unit_of_work(now=MOVED + DAY) as ctx:
        then = audit_views.subject(ctx, child, as_of=MOVED - DAY)
        now = audit_views.subject(ctx, child)
        with pytest.raises(NotFoundError):
            audit_views.subject(ctx, child, as_of=NOW - DAY)
    assert then.person["unit"] == "bhg"
    assert then.corrections == []
    assert now.person["unit"] == "skole"
    ((correction),) = now.corrections
    assert correction["fields"] == ["name", "unit"]
    assert correction["old_unit"] == "bhg"
    assert "Kari" not in repr(now)


def test_the_birth_date_read_as_of_an_instant_is_the_one_recorded_by_then(
    unit_of_work: ContextFactory, child: str
) -> None:
    with unit_of_work(now=MOVED) as ctx:
        correct_person(ctx, child, born=date(2020, 3, 14))
    with unit_of_work(now=MOVED_AGAIN) as ctx:
        correct_person(ctx, child, born=date(2019, 3, 14))
    with unit_of_work(now=MOVED_AGAIN + DAY, writer=False) as ctx:
        born = {
            at: register_at(ctx, at).people[child].born
            for at in (MOVED - DAY, MOVED + DAY, MOVED_AGAIN + DAY)
        }
    assert list(born.values()) == [date(2021, 3, 14), date(2020, 3, 14), date(2019, 3, 14)]


def test_the_register_read_at_each_instant_is_the_log_replayed_after_corrections(
    unit_of_work: ContextFactory, child: str
) -> None:
    with unit_of_work(now=MOVED) as ctx:
        correct_person(ctx, child, unit="skole")
        second = builders.person(ctx, "Ola Hansen", "2020-01-01", unit_code="skole")
    with unit_of_work(now=MOVED_AGAIN) as ctx:
        correct_person(ctx, child, unit="sfo", name="Kari Nordmann")
        correct_person(ctx, second, unit="bhg")
    with unit_of_work(now=MOVED_AGAIN + DAY) as ctx:
        instants = sorted({e.at for e in read_log(ctx)})
        probes = [instants[0] - DAY, *instants, *(a + DAY / 2 for a in instants)]
        now = replay(read_log(ctx))
        for at in probes:
            expected = _replayed(replay(read_log(ctx, until=at)), now, at)
            assert _read(register_at(ctx, at)) == expected, at
            everyone: dict[str, tuple[str, str | None, bool]] = expected["people"]  # type: ignore[assignment]
            for code in ("bhg", "skole", "sfo"):
                in_unit = register_at(ctx, at, unit_id=unit_by_code(ctx, code).id).people
                assert set(in_unit) == {p for p, facts in everyone.items() if facts[1] == code}


def test_the_gate_judges_on_the_corrected_birth_date(
    unit_of_work: ContextFactory, child: str
) -> None:
    with unit_of_work() as ctx:
        add_photo(ctx, jpeg(), [child])
        before = publishing.check(ctx, input_sha256=sha(jpeg()), purpose="facebook", at=ctx.now)
        # a typo: the pupil is 16, so only their own consent counts (from the 15th birthday)
        correct_person(ctx, child, born=oslo_day(NOW).replace(year=NOW.year - 16))
        after = publishing.check(ctx, input_sha256=sha(jpeg()), purpose="facebook", at=ctx.now)
    assert before.decision.allowed
    assert codes(after.decision) == [("self_consent_required", child)]


def _tamper(engine: Engine, statement: str, **params: str) -> None:
    with engine.begin() as conn:
        drop_append_only_guards(conn, "person_corrections")
        conn.execute(text(statement), params)


def _verify(unit_of_work: ContextFactory) -> VerifyReport:
    with unit_of_work(now=MOVED_AGAIN) as ctx:
        return verify_log(ctx)


@pytest.fixture
def corrected(unit_of_work: ContextFactory, child: str) -> str:
    with unit_of_work(now=MOVED) as ctx:
        correct_person(ctx, child, unit="skole", name="Kari Nordmann", born=date(2021, 3, 15))
        correct_person(ctx, child, ref="K005")
        leave_person(ctx, child, at=MOVED - DAY)
    return child


def test_audit_verify_passes_after_corrections_and_leaving(
    unit_of_work: ContextFactory, corrected: str
) -> None:
    report = _verify(unit_of_work)
    assert report.ok, failure_message(report)


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        ("UPDATE person_corrections SET unit_id = NULL", "person_corrections"),
        ("UPDATE person_corrections SET fields = 'unit' WHERE version = 2", "person_corrections"),
        ("DELETE FROM person_corrections WHERE version = 2", "person_corrections"),
        (
            "UPDATE people SET unit_id = (SELECT id FROM units WHERE code = 'bhg') WHERE id = :p",
            "people",
        ),
        ("UPDATE people SET left_at = NULL WHERE id = :p", "people"),
        ("DELETE FROM person_name_tokens WHERE person_id = :p", "person_name_tokens"),
    ],
)
def test_audit_verify_finds_a_tampered_correction_or_departure(
    unit_of_work: ContextFactory, corrected: str, engine: Engine, statement: str, table: str
) -> None:
    _tamper(engine, statement, p=corrected)
    report = _verify(unit_of_work)
    assert not report.ok
    assert report.findings[0].table == table


def test_the_correction_table_is_append_only(
    unit_of_work: ContextFactory, corrected: str, engine: Engine
) -> None:
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM person_corrections"))


def test_a_person_who_left_is_hidden_from_the_list_but_still_found_and_published_as_before(
    unit_of_work: ContextFactory, child: str
) -> None:
    with unit_of_work() as ctx:
        add_photo(ctx, jpeg(), [child])
    with unit_of_work(now=MOVED) as ctx:
        left = leave_person(ctx, child)
    assert left.left_at == MOVED
    with unit_of_work(now=MOVED, writer=False) as ctx:
        assert child not in {p.id for p in people.list_people(ctx)}
        assert child in {p.id for p in people.list_people(ctx, include_left=True)}
        assert people.show_person(ctx, "ref:K001").left_at == MOVED
        check = publishing.check(ctx, input_sha256=sha(jpeg()), purpose="facebook", at=ctx.now)
    assert check.decision.allowed  # leaving is not a withdrawal


def test_leaving_twice_or_in_the_future_is_refused(
    unit_of_work: ContextFactory, child: str
) -> None:
    with unit_of_work() as ctx, pytest.raises(InvalidInputError, match="future"):
        leave_person(ctx, child, at=NOW + DAY)
    with unit_of_work() as ctx:
        leave_person(ctx, child, at=NOW - 30 * DAY)
    with unit_of_work() as ctx, pytest.raises(InvalidInputError, match="already left"):
        leave_person(ctx, child)
    with unit_of_work() as ctx, pytest.raises(NotFoundError):
        leave_person(ctx, "ref:NOPE")


def test_a_likely_duplicate_is_refused_by_id_unless_allowed(
    unit_of_work: ContextFactory, child: str
) -> None:
    with unit_of_work() as ctx, pytest.raises(DuplicatePersonError) as refused:
        people.add_person(ctx, name="  KARI nordman ", born=date(2021, 3, 14), unit="skole")
    assert child in str(refused.value)
    assert "Kari" not in str(refused.value)
    assert "Nordman" not in str(refused.value)
    with unit_of_work() as ctx:
        people.add_person(ctx, name="Kari Nordman", born=date(2021, 3, 15))  # another day
        people.add_person(ctx, name="Kari Marie Nordman", born=date(2021, 3, 14))  # more words
        people.add_person(ctx, name="Kari Nordman", born=date(2021, 3, 14), allow_duplicate=True)


def test_a_duplicate_is_found_by_the_corrected_name_and_among_those_who_left(
    unit_of_work: ContextFactory, child: str
) -> None:
    with unit_of_work(now=MOVED) as ctx:
        correct_person(ctx, child, name="Kari Åsen")
        leave_person(ctx, child)
    with unit_of_work(now=MOVED) as ctx:
        people.add_person(ctx, name="Kari Nordman", born=date(2021, 3, 14))
        with pytest.raises(DuplicatePersonError, match=child):
            people.add_person(ctx, name="kari asen", born=date(2021, 3, 14))


def test_an_import_reports_likely_duplicates_per_line_unless_allowed(
    unit_of_work: ContextFactory, child: str, tmp_path: Path, engine: Engine
) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text(
        "ref,name,born\nK101,Kari Nordman,2021-03-14\nK102,Ola Hansen,2020-01-01\n"
        "K103,Ola  HANSEN,2020-01-01\nK104,Per Hansen,2020-01-01\n",
        encoding="utf-8",
    )
    with unit_of_work() as ctx, pytest.raises(InvalidInputError) as refused:
        imports.import_people(ctx, csv)
    message = str(refused.value)
    assert f"line 2, column name: same name and birth date as person {child}" in message
    assert "line 4, column name: same name and birth date as line 3" in message
    assert "line 5" not in message
    assert "Hansen" not in message
    assert "Kari" not in message
    with unit_of_work() as ctx:
        assert imports.import_people(ctx, csv, allow_duplicates=True) == 4


def test_the_retention_report_lists_people_who_left_long_enough_ago(
    unit_of_work: ContextFactory, child: str
) -> None:
    with unit_of_work() as ctx:
        recent = builders.person(ctx, "Ola Hansen", "2020-01-01", unit_code="skole")
        builders.person(ctx, "Per Hansen", "2020-01-01")  # stays
        leave_person(ctx, child, at=NOW - 3 * 365 * DAY)
        leave_person(ctx, recent, at=NOW - 200 * DAY)
    with unit_of_work(writer=False) as ctx:
        (old,) = retention(ctx)
        assert [p.id for p in retention(ctx, years=0)] == [child, recent]
        assert retention(ctx, years=5) == []
        with pytest.raises(InvalidInputError, match="--years"):
            retention(ctx, years=-1)
    assert (old.id, old.kind, old.unit, old.name) == (child, "child", "bhg", "Kari Nordman")
    assert old.left_on == oslo_day(NOW - 3 * 365 * DAY)


def test_the_access_export_holds_the_values_a_correction_replaced_and_the_day_they_left(
    unit_of_work: ContextFactory, child: str
) -> None:
    with unit_of_work(now=MOVED) as ctx:
        correct_person(ctx, child, name="Kari Nordmann", unit="skole")
        leave_person(ctx, child)
    with unit_of_work(now=MOVED) as ctx:
        document = export.export_subject(ctx, child)
    assert document["subject"]["name"] == "Kari Nordmann"
    assert document["subject"]["left"] is not None
    ((correction),) = document["corrections"]
    assert correction["corrected"] == ["name", "unit"]
    assert correction["previous"] == {"name": "Kari Nordman", "unit": "bhg"}
