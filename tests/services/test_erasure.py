"""Erasure that keeps the proof (GDPR Art 17), on SQLite and PostgreSQL: `person erase`
destroys the person's data key, so their name, birth date, reference, reasons and evidence
become unreadable and show as "(erased)", their blind indexes go, the gate counts their
consents for nothing, the take-down list names their releases, and `audit verify` still
passes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, text

from consentreg.crypto import ERASED
from consentreg.db.models import Person, Publication
from consentreg.domain.model import EventKind
from consentreg.errors import (
    NotFoundError,
    NotPermittedError,
    PersonErasedError,
    PersonNotErasableError,
)
from consentreg.services import access, consents, export, people, photos
from consentreg.services.access_report import access_report
from consentreg.services.audit import views as audit_views
from consentreg.services.audit.verify import verify_log
from consentreg.services.corrections import correct_person
from consentreg.services.erasure import erase_person
from consentreg.services.evidence import evidence_problems
from consentreg.services.evidence_copy import evidence_bytes
from consentreg.services.publishing import gate as publishing
from consentreg.services.publishing.takedown import takedown_list
from consentreg.services.unit_of_work import new_id
from tests import builders
from tests.conftest import NOW, ContextFactory
from tests.services.test_gate import add_photo, codes, jpeg, sha

SCAN = b"%PDF-1.4 signed consent form of Emma Nordmann\n"


@pytest.fixture
def released(unit_of_work: ContextFactory) -> dict[str, str]:
    """Emma (ref K001; her name corrected once, restricted and unrestricted), whose guardians
    consented to facebook with a scan and a photo of her released; and her sibling Ola, whose
    consent has the same scan."""
    ids: dict[str, str] = {}
    with unit_of_work(now=NOW - timedelta(hours=3)) as ctx:
        builders.purpose(ctx)
        child, (mother, father) = builders.family(ctx)
        correct_person(ctx, child, name="Emma Sofie Nordmann", ref="K001")
    with unit_of_work(now=NOW - timedelta(hours=2)) as ctx:
        people.set_protected(ctx, child, protected=True, reason="adresse sperret")
    with unit_of_work(now=NOW - timedelta(hours=1)) as ctx:
        people.set_protected(ctx, child, protected=False, reason="ikke lenger sperret")
    with unit_of_work() as ctx:
        with builders.scan(SCAN) as evidence:
            ids["consent"] = consents.record_decision(
                ctx,
                subject=child,
                purpose="facebook",
                by=mother,
                kind=EventKind.GRANT,
                given=date(2026, 9, 1),
                evidence=evidence,
            )
        builders.grant(ctx, child, father)
        sibling = builders.person(ctx, "Ola Nordmann", "2019-01-02")
        people.add_guardian(ctx, child=sibling, guardian=mother)
        with builders.scan(SCAN) as evidence:
            ids["sibling_consent"] = consents.record_decision(
                ctx,
                subject=sibling,
                purpose="facebook",
                by=mother,
                kind=EventKind.GRANT,
                given=date(2026, 9, 1),
                evidence=evidence,
            )
        add_photo(ctx, jpeg(), [child])
        rec = publishing.record_decision(
            ctx,
            input_sha256=sha(jpeg()),
            purpose="facebook",
            caption="Sommerfest",
            output_sha256="ab" * 32,
            output_size=1234,
        )
        assert rec.output_name is not None
        ids.update(child=child, mother=mother, sibling=sibling, publication=rec.publication_id)
    return ids


def test_an_erased_person_shows_as_erased_everywhere_and_the_log_still_verifies(
    unit_of_work: ContextFactory, released: dict[str, str]
) -> None:
    child = released["child"]
    with unit_of_work() as ctx:
        done = erase_person(ctx, "ref:K001")
    assert done.person_id == child
    assert [i.publication_id for i in done.takedown] == [released["publication"]]
    with unit_of_work() as ctx:
        view = people.show_person(ctx, child)
        assert (view.name, view.born, view.ref, view.erased) == (ERASED, None, ERASED, True)
        # the others are as readable as before
        assert people.show_person(ctx, released["sibling"]).name == "Ola Nordmann"
        # the blind indexes went with the key: neither the name search nor ref: finds her
        assert [p.id for p in people.list_people(ctx, name="Emma")] == []
        with pytest.raises(NotFoundError):
            people.resolve_person(ctx, "ref:K001")
        html = access_report(ctx, child)
        assert "(slettet)" in html
        assert "Emma" not in html
        document = export.export_subject(ctx, child)
        assert document["subject"]["name"] == ERASED
        assert document["subject"]["born"] == ERASED
        (correction,) = document["corrections"]
        assert correction["previous"] == {"name": ERASED, "ref": None}
        # the scan: unreadable for her, still readable for her sibling (stored once per child)
        with pytest.raises(PersonErasedError):
            evidence_bytes(ctx, consent_id=released["consent"])
        assert evidence_bytes(ctx, consent_id=released["sibling_consent"]).content == SCAN
        assert list(evidence_problems(ctx)) == []
        report = verify_log(ctx)
        assert report.ok, report.findings
        # her releases stay on the take-down list until taken down
        assert [i.publication_id for i in takedown_list(ctx)] == [released["publication"]]
        # the caption was under the keys of everyone in the photo
        publication = ctx.session.get(Publication, released["publication"])
        assert publication is not None
        assert publication.caption_ct is not None
        caption = ctx.keys.decrypt(
            publication.caption_ct, table="publications", column="caption", row_id=publication.id
        )
        assert caption == ERASED
        audit_views.consents(ctx)  # the as-of view reads her birth date as erased, no error
        audit_views.subject(ctx, child)


def test_the_gate_counts_an_erased_persons_consents_for_nothing(
    unit_of_work: ContextFactory, released: dict[str, str]
) -> None:
    with unit_of_work() as ctx:
        before = publishing.check(ctx, input_sha256=sha(jpeg()), purpose="facebook", at=ctx.now)
        erase_person(ctx, released["child"])
    assert before.decision.allowed
    with unit_of_work() as ctx:
        after = publishing.check(ctx, input_sha256=sha(jpeg()), purpose="facebook", at=ctx.now)
    assert not after.decision.allowed
    assert {subject for _, subject in codes(after.decision)} == {released["child"]}


def test_an_erased_person_cannot_be_erased_again_nor_recorded_about(
    unit_of_work: ContextFactory, released: dict[str, str]
) -> None:
    child = released["child"]
    with unit_of_work() as ctx:
        erase_person(ctx, child)
    with unit_of_work() as ctx, pytest.raises(PersonErasedError, match=f"person {child}"):
        erase_person(ctx, child)
    with unit_of_work() as ctx, pytest.raises(PersonErasedError):
        correct_person(ctx, child, name="Noen Andre")
    with unit_of_work() as ctx, pytest.raises(PersonErasedError):
        people.set_protected(ctx, child, protected=True, reason="sperret")
    with unit_of_work() as ctx, pytest.raises(PersonErasedError):
        builders.grant(ctx, child, released["mother"])
    with unit_of_work() as ctx, pytest.raises(PersonErasedError):
        people.add_guardian(ctx, child=child, guardian=released["mother"])
    with unit_of_work() as ctx:
        [photo] = photos.add_photos(
            ctx, files=[photos.PhotoInput("other.jpg", jpeg(9))], photographer="P"
        )
    with unit_of_work() as ctx, pytest.raises(PersonErasedError):
        photos.tag_photo(ctx, photo_id=photo, subject=child)


def test_the_erased_persons_data_is_left_as_it_was_but_their_key_and_indexes_are_gone(
    unit_of_work: ContextFactory, released: dict[str, str], engine: Engine
) -> None:
    child = released["child"]

    def counts() -> tuple[int, ...]:
        with engine.connect() as conn:
            return tuple(
                conn.execute(text(q), {"p": child}).scalar_one()
                for q in (
                    "SELECT count(*) FROM person_name_tokens WHERE person_id = :p",
                    "SELECT count(*) FROM person_caption_keys WHERE person_id = :p",
                    "SELECT count(*) FROM people WHERE id = :p AND ref_bidx IS NOT NULL",
                    "SELECT count(*) FROM person_keys WHERE person_id = :p"
                    " AND wrapped_key IS NOT NULL",
                    "SELECT count(*) FROM person_corrections WHERE person_id = :p",
                )
            )

    assert all(counts())
    with unit_of_work() as ctx:
        erase_person(ctx, child)
    assert counts() == (0, 0, 0, 0, 1)


def test_a_person_registered_before_person_keys_cannot_be_erased(
    unit_of_work: ContextFactory,
) -> None:
    """A person from before schema 0016 (their data under the register's key, no key row)."""
    with unit_of_work() as ctx:
        pid = new_id()
        enc = ctx.keys.encrypt
        ctx.session.add(
            Person(
                id=pid,
                kind="child",
                name_ct=enc("Gammel Person", table="people", column="name", row_id=pid),
                born_ct=enc("2020-01-01", table="people", column="born", row_id=pid),
                created_at=NOW,
                created_by="tester",
            )
        )
    with unit_of_work() as ctx:
        assert people.show_person(ctx, pid).name == "Gammel Person"
        with pytest.raises(PersonNotErasableError, match="before per-person keys"):
            erase_person(ctx, pid)


def test_only_an_admin_may_erase(unit_of_work: ContextFactory) -> None:
    with unit_of_work() as ctx:
        access.add_user(ctx, login="tester", role="admin")
        builders.unit(ctx, "sol")
        child = builders.person(ctx, "Emma Nordmann", "2021-03-14", unit_code="sol")
        access.add_user(ctx, login="kari", role="registrar", units=["sol"])
    with unit_of_work(actor="kari") as ctx, pytest.raises(NotPermittedError, match="person.erase"):
        erase_person(ctx, child)
    with unit_of_work(actor="tester") as ctx:
        erase_person(ctx, child)
