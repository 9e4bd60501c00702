"""When a decision takes effect and which notice it binds to (docs/rules.md, "Decisions on the
edges": Time, Notice binding): recorded without a day it counts from the instant it is recorded;
with a day, from that day's start; a grant binds to the notice in force when it is recorded, or
to the version a paper form names."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image

from consentreg.domain.model import EventKind
from consentreg.errors import InvalidInputError
from consentreg.services import consents, people, photos, purposes
from consentreg.services.photos import PhotoInput
from consentreg.services.publishing import gate
from tests import builders
from tests.conftest import ContextFactory

# an ordinary school day (the test injects its clock: any date works)
MORNING = datetime(2026, 10, 14, 7, 0, tzinfo=UTC)  # 09:00 in Oslo
AFTERNOON = MORNING + timedelta(hours=5)


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def family(unit_of_work: ContextFactory) -> dict[str, str]:
    """A child with one guardian who consented to facebook on a paper form in September."""
    with unit_of_work(now=MORNING - timedelta(days=30)) as ctx:
        builders.purpose(ctx, guardians="any")
        child = builders.person(ctx, "Emma Nordmann", "2021-03-14")
        mother = builders.person(ctx, "Åse Nordmann", "1988-01-01", kind="adult")
        people.add_guardian(ctx, child=child, guardian=mother)
        grant = builders.grant(ctx, child, mother, given="2026-09-01")
        photos.add_photos(
            ctx,
            files=[PhotoInput("IMG_1.jpg", _jpeg())],
            photographer="Kari Lærer",
            subjects=[child],
            complete=True,
        )
    return {"child": child, "mother": mother, "grant": grant}


def _allowed(unit_of_work: ContextFactory, at: datetime) -> bool:
    import hashlib

    with unit_of_work(now=at, writer=False) as ctx:
        found = gate.check(
            ctx, input_sha256=hashlib.sha256(_jpeg()).hexdigest(), purpose="facebook", at=at
        )
    return found.decision.allowed


def test_a_grant_recorded_after_this_mornings_withdrawal_counts_again_from_its_instant(
    unit_of_work: ContextFactory, family: dict[str, str]
) -> None:
    with unit_of_work(now=MORNING) as ctx:
        consents.withdraw(ctx, consent_id=family["grant"])
    assert not _allowed(unit_of_work, MORNING + timedelta(hours=1))
    with unit_of_work(now=AFTERNOON) as ctx:
        consents.record_decision(
            ctx, subject=family["child"], purpose="facebook", by=family["mother"],
            kind=EventKind.GRANT,
        )  # fmt: skip
    assert _allowed(unit_of_work, AFTERNOON + timedelta(minutes=1))
    assert not _allowed(unit_of_work, AFTERNOON - timedelta(minutes=1))  # not before it


def test_a_form_dated_today_takes_effect_at_the_start_of_the_day_so_this_mornings_no_stands(
    unit_of_work: ContextFactory, family: dict[str, str]
) -> None:
    with unit_of_work(now=MORNING) as ctx:
        consents.withdraw(ctx, consent_id=family["grant"])
    with unit_of_work(now=AFTERNOON) as ctx:
        consents.record_decision(
            ctx, subject=family["child"], purpose="facebook", by=family["mother"],
            kind=EventKind.GRANT, given=date(2026, 10, 14),
        )  # fmt: skip
    assert not _allowed(unit_of_work, AFTERNOON + timedelta(minutes=1))


def test_a_grant_recorded_on_the_day_of_a_revision_binds_to_the_new_notice(
    unit_of_work: ContextFactory, family: dict[str, str]
) -> None:
    with unit_of_work(now=MORNING) as ctx:
        purposes.revise_purpose(
            ctx, code="facebook", notice_text="Ny tekst.\n", requires_new_consent=True
        )
    assert not _allowed(unit_of_work, MORNING + timedelta(hours=1))  # September's form: v1
    with unit_of_work(now=AFTERNOON) as ctx:
        consents.record_decision(
            ctx, subject=family["child"], purpose="facebook", by=family["mother"],
            kind=EventKind.GRANT, given=date(2026, 10, 14),
        )  # fmt: skip
    assert _allowed(unit_of_work, AFTERNOON + timedelta(minutes=1))


def test_a_paper_form_for_the_older_notice_is_recorded_with_that_version_and_does_not_count(
    unit_of_work: ContextFactory, family: dict[str, str]
) -> None:
    with unit_of_work(now=MORNING) as ctx:
        purposes.revise_purpose(
            ctx, code="facebook", notice_text="Ny tekst.\n", requires_new_consent=True
        )
    with unit_of_work(now=AFTERNOON) as ctx:
        cid = consents.record_decision(
            ctx, subject=family["child"], purpose="facebook", by=family["mother"],
            kind=EventKind.GRANT, given=date(2026, 10, 1), notice_version=1,
        )  # fmt: skip
        (listed,) = [c for c in consents.list_consents(ctx) if c.id == cid]
    assert listed.notice_version == 1
    assert not _allowed(unit_of_work, AFTERNOON + timedelta(minutes=1))


@pytest.mark.parametrize("version", [0, 3])
def test_a_notice_version_that_did_not_exist_is_refused(
    unit_of_work: ContextFactory, family: dict[str, str], version: int
) -> None:
    with (
        pytest.raises(InvalidInputError, match="has notice versions 1 to 1"),
        unit_of_work(now=AFTERNOON) as ctx,
    ):
        consents.record_decision(
            ctx, subject=family["child"], purpose="facebook", by=family["mother"],
            kind=EventKind.GRANT, notice_version=version,
        )  # fmt: skip
