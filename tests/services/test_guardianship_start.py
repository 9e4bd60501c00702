"""What `--at` asks of guardianships (docs/rules.md, "Decisions on the edges"): a guardianship
runs from its start (the child's birth unless `--from` names a later day) until its removal,
whenever it was entered in the register; the gate, `audit consents --as-of`, `person show --at`
and the coverage report read it the same way (consentreg.services.guardianships)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from consentreg.db.models import Guardianship
from consentreg.errors import InvalidInputError
from consentreg.services import people, photos
from consentreg.services.audit import views as audit_views
from consentreg.services.audit.standing import register_at, standings
from consentreg.services.person_page import person_page
from consentreg.services.photos import PhotoInput
from consentreg.services.publishing import gate
from tests import builders
from tests.conftest import ContextFactory

# the second guardianship is entered in the register at REC (the test injects every clock)
REC = datetime(2026, 10, 14, 7, 0, tzinfo=UTC)
START = date(2026, 10, 1)  # a later start: 00:00 in Oslo is 2026-09-30T22:00Z
START_INSTANT = datetime(2026, 9, 30, 22, 0, tzinfo=UTC)
REMOVED = REC + timedelta(days=1)


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(buf, "JPEG")
    return buf.getvalue()


@dataclass(frozen=True)
class Row:
    what: str
    starts_on: date | None
    removed: bool
    at: datetime
    counts: bool  # the second guardian's (missing) consent counts at `at`


TABLE = [
    Row("from birth, entered after the instant", None, False, REC - timedelta(days=30), True),
    Row("from birth, at the instant it is entered", None, False, REC, True),
    Row(
        "starts the day after the instant", START, False, START_INSTANT - timedelta(hours=12), False
    ),
    Row(
        "starts at midnight Oslo, last second before",
        START,
        False,
        START_INSTANT - timedelta(seconds=1),
        False,
    ),
    Row("starts at midnight Oslo, exactly then", START, False, START_INSTANT, True),
    Row("started before, entered later", START, False, REC - timedelta(days=5), True),
    Row(
        "starts after it was entered, checked before",
        date(2026, 11, 1),
        False,
        REC + timedelta(days=7),
        False,
    ),
    Row(
        "starts after it was entered, checked after",
        date(2026, 11, 1),
        False,
        REC + timedelta(days=30),
        True,
    ),
    Row("removed after the instant", None, True, REMOVED - timedelta(seconds=1), True),
    Row("removed at the instant", None, True, REMOVED, False),
    Row("removed before the instant", None, True, REMOVED + timedelta(days=3), False),
    Row(
        "started later and removed before the instant",
        START,
        True,
        REMOVED + timedelta(days=3),
        False,
    ),
]


def _register(unit_of_work: ContextFactory, row: Row) -> dict[str, str]:
    """A child whose mother consented; a second guardian (no consent) entered at REC."""
    with unit_of_work(now=REC - timedelta(days=60)) as ctx:
        builders.unit(ctx)
        builders.purpose(ctx)  # every guardian with parental responsibility must consent
        child = builders.person(ctx, "Emma Nordmann", "2021-03-14", unit_code="bhg")
        mother = builders.person(ctx, "Åse Nordmann", "1988-01-01", kind="adult")
        people.add_guardian(ctx, child=child, guardian=mother)
        builders.grant(ctx, child, mother, given="2026-08-01")
        photos.add_photos(
            ctx,
            files=[PhotoInput("IMG_1.jpg", _jpeg())],
            photographer="Kari Lærer",
            subjects=[child],
            complete=True,
        )
    with unit_of_work(now=REC) as ctx:
        second = builders.person(ctx, "Ola Bonus", "1985-02-02", kind="adult")
        people.add_guardian(ctx, child=child, guardian=second, starts_on=row.starts_on)
    if row.removed:
        with unit_of_work(now=REMOVED) as ctx:
            people.remove_guardian(ctx, child=child, guardian=second)
    return {"child": child, "mother": mother, "second": second}


@pytest.mark.parametrize("row", TABLE, ids=[r.what for r in TABLE])
def test_a_guardianship_counts_from_its_start_to_its_removal_in_the_gate_and_every_view(
    unit_of_work: ContextFactory, row: Row
) -> None:
    ids = _register(unit_of_work, row)
    later = max(row.at, REMOVED) + timedelta(days=1)
    with unit_of_work(now=later) as ctx:
        decision = gate.check(
            ctx,
            input_sha256=hashlib.sha256(_jpeg()).hexdigest(),
            purpose="facebook",
            at=row.at,
        ).decision
        whole = audit_views.consents(ctx, as_of=row.at).standings
        in_unit = audit_views.consents(ctx, unit="bhg", as_of=row.at).standings
        page = person_page(ctx, ids["child"], at=row.at)
        found = register_at(ctx, row.at)
    missing = {r.subject_id for r in decision.reasons if r.code.value == "guardian_consent_missing"}
    assert decision.allowed is not row.counts
    assert (ids["child"] in missing) is row.counts
    for answer in (whole, in_unit, page.standing, standings(found)):
        child = [s for s in answer if s.subject_id == ids["child"]]
        assert [s.allowed for s in child] == [decision.allowed], answer
        assert child[0].reasons == (["guardian_consent_missing"] if row.counts else [])
    shown = {g.person_id for g in page.person.guardians}
    assert shown == ({ids["mother"], ids["second"]} if row.counts else {ids["mother"]})


def test_a_start_before_the_birth_is_refused_and_nothing_is_written(
    unit_of_work: ContextFactory,
) -> None:
    with unit_of_work(now=REC) as ctx:
        child, (mother,) = builders.family(ctx, guardians=1)
        adult = builders.person(ctx, "Ola Bonus", "1985-02-02", kind="adult")
    with (
        pytest.raises(InvalidInputError, match="--from is before the birth date"),
        unit_of_work(now=REC) as ctx,
    ):
        people.add_guardian(ctx, child=child, guardian=adult, starts_on=date(2021, 3, 13))
    with unit_of_work(now=REC) as ctx:
        links = {g.guardian_id for g in ctx.session.scalars(select(Guardianship))}
    assert links == {mother}


def test_a_start_on_the_birth_date_is_stored_as_from_birth_never_the_date_in_clear(
    unit_of_work: ContextFactory,
) -> None:
    with unit_of_work(now=REC) as ctx:
        child, _ = builders.family(ctx, child_born="2021-03-14", guardians=0)
        adults = [
            builders.person(ctx, f"Voksen{i} Bonus", "1985-02-02", kind="adult") for i in (1, 2)
        ]
        people.add_guardian(ctx, child=child, guardian=adults[0], starts_on=date(2021, 3, 14))
        people.add_guardian(ctx, child=child, guardian=adults[1], starts_on=date(2024, 6, 1))
    with unit_of_work(now=REC) as ctx:
        starts = dict(
            ctx.session.execute(select(Guardianship.guardian_id, Guardianship.starts_on)).all()
        )
    assert starts == {adults[0]: None, adults[1]: date(2024, 6, 1)}


def test_a_paper_form_typed_in_after_the_instant_counts_at_it_in_the_gate_and_every_view(
    unit_of_work: ContextFactory,
) -> None:
    """Consents are judged at the instant checked like guardianships: a grant signed on paper
    before T and entered after T counts at T (what was *known* at T is the publication log's
    answer, not these views')."""
    with unit_of_work(now=REC - timedelta(days=60)) as ctx:
        builders.unit(ctx)
        builders.purpose(ctx)
        child = builders.person(ctx, "Emma Nordmann", "2021-03-14", unit_code="bhg")
        mother = builders.person(ctx, "Åse Nordmann", "1988-01-01", kind="adult")
        people.add_guardian(ctx, child=child, guardian=mother)
        photos.add_photos(
            ctx,
            files=[PhotoInput("IMG_1.jpg", _jpeg())],
            photographer="Kari Lærer",
            subjects=[child],
            complete=True,
        )
    with unit_of_work(now=REC) as ctx:  # signed on 1 October, typed in on 14 October
        builders.grant(ctx, child, mother, given=START.isoformat())
    at = START_INSTANT + timedelta(days=3)
    with unit_of_work(now=REC + timedelta(days=1)) as ctx:
        decision = gate.check(
            ctx, input_sha256=hashlib.sha256(_jpeg()).hexdigest(), purpose="facebook", at=at
        ).decision
        before_signing = gate.check(
            ctx,
            input_sha256=hashlib.sha256(_jpeg()).hexdigest(),
            purpose="facebook",
            at=START_INSTANT - timedelta(seconds=1),
        ).decision
        whole = audit_views.consents(ctx, as_of=at).standings
        page = person_page(ctx, child, at=at)
        found = register_at(ctx, at)
    assert decision.allowed
    assert not before_signing.allowed
    for answer in (whole, page.standing, standings(found)):
        assert [s.allowed for s in answer if s.subject_id == child] == [True], answer
