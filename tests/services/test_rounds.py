"""Consent rounds (issue #21) on both engines: who gets a link, what a link opens, answers
recorded as digital consents with the submission as evidence, withdrawal through the same link,
and every way a link or a submission is refused with nothing written."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select, text

from consentreg.db.models import ConsentEvent, Evidence, EvidenceBlob, RoundLink
from consentreg.errors import (
    InvalidInputError,
    LinkChildLeftError,
    LinkExpiredError,
    LinkInvalidError,
    LinkResponsibilityEndedError,
    LinkRevokedError,
    NoticeRevisedError,
    NotPermittedError,
    StaleFormError,
)
from consentreg.services import access, people, photos, purposes, round_answers, rounds
from consentreg.services.audit.verify import verify_log
from consentreg.services.corrections import leave_person
from consentreg.services.evidence import blob_pieces
from consentreg.services.photos import PhotoInput
from consentreg.services.publishing import gate
from tests import builders
from tests.conftest import NOW, ContextFactory

LATER = NOW + timedelta(hours=1)


@pytest.fixture
def school(unit_of_work: ContextFactory) -> dict[str, str]:
    """Unit bhg with group bhg.sol: Emma (4) with two guardians with parental responsibility and
    a step-parent without; Sara (16) answers herself; unit tom has no children. Registrars
    rita (bhg) and otto (tom)."""
    ids: dict[str, str] = {}
    with unit_of_work() as ctx:
        builders.unit(ctx, "bhg")
        rounds_units = ("bhg.sol", "tom")
        from consentreg.services import units

        units.add_unit(ctx, code=rounds_units[0], name="Sol", parent="bhg")
        units.add_unit(ctx, code=rounds_units[1], name="Tom")
        builders.purpose(ctx, "facebook")
        builders.purpose(ctx, "yearbook")
        ids["emma"] = builders.person(ctx, "Emma Nordmann", "2022-03-14", unit_code="bhg.sol")
        ids["mor"] = builders.person(ctx, "Kari Nordmann", "1988-05-01", kind="adult")
        ids["far"] = builders.person(ctx, "Ola Nordmann", "1987-02-02", kind="adult")
        ids["steg"] = builders.person(ctx, "Per Steg", "1980-02-02", kind="adult")
        for parent in ("mor", "far"):
            people.add_guardian(ctx, child=ids["emma"], guardian=ids[parent])
        people.add_guardian(
            ctx, child=ids["emma"], guardian=ids["steg"], parental_responsibility=False
        )
        ids["sara"] = builders.person(ctx, "Sara Elev", "2010-01-01", unit_code="bhg")
        access.add_user(ctx, login="tester", role="admin")
        access.add_user(ctx, login="rita", role="registrar", units=["bhg"])
        access.add_user(ctx, login="otto", role="registrar", units=["tom"])
        access.add_user(ctx, login="per", role="publisher")
    return ids


def start(unit_of_work: ContextFactory, **kwargs: object) -> tuple[str, rounds.Issued]:
    with unit_of_work(actor="rita") as ctx:
        started = rounds.start_round(
            ctx,
            unit="bhg",
            purposes=["facebook", "yearbook"],
            **kwargs,  # type: ignore[arg-type]
        )
        issued = rounds.issue_links(ctx, round_id=started.id)
    return started.id, issued


def token_of(issued: rounds.Issued, recipient: str) -> str:
    return next(link.token for link in issued.links if link.recipient_id == recipient)


def answer(
    unit_of_work: ContextFactory, token: str, *, now: datetime = LATER, **yes_no: str
) -> round_answers.Receipt:
    with unit_of_work(now=now, actor="web") as ctx:
        page = round_answers.open_link(ctx, token=token)
    with unit_of_work(now=now, actor="web") as ctx:
        return round_answers.answer_link(
            ctx,
            token=token,
            answers=yes_no,
            versions={q.code: str(q.version) for q in page.questions},
            state=page.state,
        )


def count(unit_of_work: ContextFactory, model: type) -> int:
    with unit_of_work(writer=False) as ctx:
        return ctx.session.scalar(select(func.count()).select_from(model)) or 0


def test_each_guardian_with_responsibility_and_each_pupil_of_15_gets_one_link(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    _, issued = start(unit_of_work)
    got = sorted((link.child_id, link.recipient_id) for link in issued.links)
    assert got == sorted(
        [
            (school["emma"], school["mor"]),
            (school["emma"], school["far"]),
            (school["sara"], school["sara"]),
        ]
    )
    assert all(len(link.token) >= 32 for link in issued.links)  # 192 random bits
    assert {link.child_first_name for link in issued.links} == {"Emma", "Sara"}


def test_a_link_is_stored_only_as_the_hash_of_its_token(
    unit_of_work: ContextFactory, school: dict[str, str], engine: object
) -> None:
    _, issued = start(unit_of_work)
    token = token_of(issued, school["mor"])
    with unit_of_work(writer=False) as ctx:
        stored = ctx.session.scalars(select(RoundLink.token_sha256)).all()
        dumped = " ".join(
            str(row) for row in ctx.session.execute(text("SELECT * FROM round_links")).all()
        )
        events = " ".join(
            str(row) for row in ctx.session.execute(text("SELECT * FROM audit_events")).all()
        )
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert token not in dumped
    assert token not in events


def test_a_round_for_a_unit_with_no_children_is_refused_and_writes_nothing(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    with pytest.raises(InvalidInputError, match="no children"), unit_of_work(actor="otto") as ctx:
        rounds.start_round(ctx, unit="tom", purposes=["facebook"])
    with unit_of_work(writer=False) as ctx:
        assert rounds.list_rounds(ctx) == []


def test_only_a_registrar_of_the_unit_or_an_admin_starts_a_round(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    for actor in ("otto", "per"):
        with pytest.raises(NotPermittedError), unit_of_work(actor=actor) as ctx:
            rounds.start_round(ctx, unit="bhg", purposes=["facebook"])


def test_a_guardians_yes_is_a_digital_consent_whose_evidence_is_the_submission(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    _, issued = start(unit_of_work)
    receipt = answer(unit_of_work, token_of(issued, school["mor"]), facebook="yes", yearbook="no")
    assert sorted(receipt.changed) == [("facebook", "grant"), ("yearbook", "refusal")]
    with unit_of_work(writer=False) as ctx:
        events = ctx.session.scalars(
            select(ConsentEvent).where(ConsentEvent.consenter_id == school["mor"])
        ).all()
        assert {e.method for e in events} == {"digital"}
        assert all(e.recorded_by.startswith("link:") for e in events)
        evidence = ctx.session.get(Evidence, events[0].evidence_id)
        assert evidence is not None
        assert evidence.sha256 == receipt.evidence_sha256
        blob = ctx.session.scalars(
            select(EvidenceBlob).where(EvidenceBlob.sha256 == evidence.sha256)
        ).one()
        document = json.loads(b"".join(blob_pieces(ctx, blob)))
    notice = hashlib.sha256(builders.NOTICE.encode()).hexdigest()
    assert document["answers"] == [
        {"answer": "yes", "notice_sha256": notice, "notice_version": 1, "purpose": "facebook"},
        {"answer": "no", "notice_sha256": notice, "notice_version": 1, "purpose": "yearbook"},
    ]
    assert document["link"] == receipt.page.link_id
    assert "Emma" not in json.dumps(document)


def test_both_guardians_yes_lets_the_gate_release_and_a_withdrawal_lists_the_release(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    _, issued = start(unit_of_work)
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 80, 160)).save(buf, "JPEG")
    sha = hashlib.sha256(buf.getvalue()).hexdigest()
    with unit_of_work() as ctx:
        photos.add_photos(
            ctx,
            files=[PhotoInput("a.jpg", buf.getvalue())],
            photographer="Fotograf",
            subjects=[school["emma"]],
            complete=True,
        )
    answer(unit_of_work, token_of(issued, school["mor"]), facebook="yes", yearbook="no")
    with unit_of_work(now=LATER, writer=False) as ctx:
        assert not gate.check(ctx, input_sha256=sha, purpose="facebook", at=LATER).decision.allowed
    answer(unit_of_work, token_of(issued, school["far"]), facebook="yes", yearbook="yes")
    with unit_of_work(now=LATER) as ctx:
        assert gate.check(ctx, input_sha256=sha, purpose="facebook", at=LATER).decision.allowed
        gate.record_decision(
            ctx, input_sha256=sha, purpose="facebook", output_sha256="ab" * 32, output_size=1
        )
    later = LATER + timedelta(minutes=5)
    receipt = answer(
        unit_of_work, token_of(issued, school["far"]), now=later, facebook="no", yearbook="yes"
    )
    assert receipt.changed == [("facebook", "withdrawal")]
    with unit_of_work(now=later) as ctx:
        assert not gate.check(ctx, input_sha256=sha, purpose="facebook", at=later).decision.allowed
        from consentreg.services.publishing.takedown import takedown_list

        assert len(takedown_list(ctx)) == 1
        assert verify_log(ctx).ok


def test_the_page_shows_the_first_name_and_the_answers_in_force(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    _, issued = start(unit_of_work)
    token = token_of(issued, school["mor"])
    with unit_of_work(writer=False) as ctx:
        page = round_answers.open_link(ctx, token=token)
    assert page.first_name == "Emma"
    assert [q.answer for q in page.questions] == [None, None]
    assert page.questions[0].notice == builders.NOTICE
    answer(unit_of_work, token, facebook="yes", yearbook="no")
    with unit_of_work(now=LATER, writer=False) as ctx:
        page = round_answers.open_link(ctx, token=token)
    assert [q.answer for q in page.questions] == [True, False]


def test_a_form_posted_twice_is_refused_the_second_time_and_records_nothing_more(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    _, issued = start(unit_of_work)
    token = token_of(issued, school["mor"])
    with unit_of_work(writer=False) as ctx:
        page = round_answers.open_link(ctx, token=token)
    form = {
        "token": token,
        "answers": {"facebook": "yes", "yearbook": "yes"},
        "versions": {"facebook": "1", "yearbook": "1"},
        "state": page.state,
    }
    with unit_of_work(now=LATER) as ctx:
        round_answers.answer_link(ctx, **form)  # type: ignore[arg-type]
    before = count(unit_of_work, ConsentEvent)
    with pytest.raises(StaleFormError), unit_of_work(now=LATER) as ctx:
        round_answers.answer_link(ctx, **form)  # type: ignore[arg-type]
    assert count(unit_of_work, ConsentEvent) == before


def test_a_notice_revised_meanwhile_must_be_read_and_accepted_again(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    _, issued = start(unit_of_work)
    token = token_of(issued, school["mor"])
    with unit_of_work(writer=False) as ctx:
        page = round_answers.open_link(ctx, token=token)
    with unit_of_work(now=NOW + timedelta(minutes=30)) as ctx:
        purposes.revise_purpose(
            ctx, code="facebook", notice_text="Ny tekst.\n", requires_new_consent=True
        )
    before = count(unit_of_work, ConsentEvent)
    with pytest.raises(NoticeRevisedError, match="facebook"), unit_of_work(now=LATER) as ctx:
        round_answers.answer_link(
            ctx,
            token=token,
            answers={"facebook": "yes", "yearbook": "yes"},
            versions={"facebook": "1", "yearbook": "1"},
            state=page.state,
        )
    assert count(unit_of_work, ConsentEvent) == before
    receipt = answer(unit_of_work, token, facebook="yes", yearbook="yes")
    assert receipt.page.questions[0].notice == "Ny tekst.\n"
    assert receipt.page.questions[0].answer is True


def test_a_missing_answer_is_refused_and_nothing_is_half_recorded(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    _, issued = start(unit_of_work)
    with pytest.raises(InvalidInputError, match="yearbook"):
        answer(unit_of_work, token_of(issued, school["mor"]), facebook="yes")
    assert count(unit_of_work, ConsentEvent) == 0


def test_an_unknown_token_gets_the_same_answer_whatever_it_is(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    _, issued = start(unit_of_work)
    real = token_of(issued, school["mor"])
    for token in ("", "x", real[:-1] + ("A" if real[-1] != "A" else "B"), "ø" * 30, "a" * 500):
        with pytest.raises(LinkInvalidError) as found, unit_of_work(writer=False) as ctx:
            round_answers.open_link(ctx, token=token)
        assert str(found.value) == "unknown link"


def test_unknown_tokens_from_one_address_are_throttled(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    with unit_of_work() as ctx:
        for _ in range(round_answers.INVALID_PER_ADDRESS - 1):
            round_answers.note_invalid_link(ctx, address="10.0.0.9")
        assert not round_answers.link_throttled(ctx, address="10.0.0.9")
        round_answers.note_invalid_link(ctx, address="10.0.0.9")
        assert round_answers.link_throttled(ctx, address="10.0.0.9")
        assert not round_answers.link_throttled(ctx, address="10.0.0.10")
    with unit_of_work(now=NOW + timedelta(minutes=16)) as ctx:
        assert not round_answers.link_throttled(ctx, address="10.0.0.9")


def test_a_revoked_or_replaced_link_is_refused_and_a_reminder_skips_those_who_answered(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    round_id, issued = start(unit_of_work)
    answer(unit_of_work, token_of(issued, school["mor"]), facebook="yes", yearbook="yes")
    with unit_of_work(now=LATER) as ctx:
        reminder = rounds.issue_links(ctx, round_id=round_id, unanswered_only=True)
    assert sorted(link.recipient_id for link in reminder.links) == sorted(
        [school["far"], school["sara"]]
    )
    with pytest.raises(LinkRevokedError), unit_of_work(now=LATER, writer=False) as ctx:
        round_answers.open_link(ctx, token=token_of(issued, school["far"]))
    with unit_of_work(now=LATER, writer=False) as ctx:  # the one who answered keeps theirs
        round_answers.open_link(ctx, token=token_of(issued, school["mor"]))
        link_id = round_answers.open_link(ctx, token=token_of(reminder, school["sara"])).link_id
    with unit_of_work(now=LATER, actor="rita") as ctx:
        rounds.revoke_link(ctx, link_id=link_id)
    with pytest.raises(LinkRevokedError), unit_of_work(now=LATER, writer=False) as ctx:
        round_answers.open_link(ctx, token=token_of(reminder, school["sara"]))


def test_a_link_stops_when_its_round_ends_or_closes(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    ends = NOW.date() + timedelta(days=10)
    round_id, issued = start(unit_of_work, ends_on=ends)
    token = token_of(issued, school["mor"])
    with pytest.raises(LinkExpiredError), unit_of_work(now=NOW + timedelta(days=12)) as ctx:
        round_answers.open_link(ctx, token=token)
    with unit_of_work(actor="rita") as ctx:
        rounds.close_round(ctx, round_id=round_id)
    with pytest.raises(LinkExpiredError), unit_of_work(now=LATER) as ctx:
        round_answers.open_link(ctx, token=token)


def test_a_link_for_a_child_who_left_or_from_a_guardian_no_longer_responsible_is_refused(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    _, issued = start(unit_of_work)
    with unit_of_work() as ctx:
        people.remove_guardian(ctx, child=school["emma"], guardian=school["far"])
    with pytest.raises(LinkResponsibilityEndedError), unit_of_work(now=LATER) as ctx:
        round_answers.open_link(ctx, token=token_of(issued, school["far"]))
    with unit_of_work() as ctx:
        leave_person(ctx, school["emma"])
    with pytest.raises(LinkChildLeftError):
        answer(unit_of_work, token_of(issued, school["mor"]), facebook="yes", yearbook="yes")
    assert count(unit_of_work, ConsentEvent) == 0


def test_a_link_answers_for_its_own_child_only(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    _, issued = start(unit_of_work)
    answer(unit_of_work, token_of(issued, school["sara"]), facebook="yes", yearbook="no")
    with unit_of_work(writer=False) as ctx:
        subjects = set(ctx.session.scalars(select(ConsentEvent.subject_id)).all())
    assert subjects == {school["sara"]}


def test_the_status_says_answered_partly_answered_and_not_answered(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    round_id, issued = start(unit_of_work)
    with unit_of_work(actor="rita") as ctx:
        status = rounds.round_status(ctx, round_id=round_id)
    assert {c.state for c in status.children} == {"not answered"}
    answer(unit_of_work, token_of(issued, school["mor"]), facebook="yes", yearbook="yes")
    answer(unit_of_work, token_of(issued, school["sara"]), facebook="no", yearbook="no")
    with unit_of_work(actor="rita", now=LATER) as ctx:
        status = rounds.round_status(ctx, round_id=round_id)
    by_child = {c.child_id: c.state for c in status.children}
    assert by_child == {school["emma"]: "partly answered", school["sara"]: "answered"}


def test_the_renewal_report_lists_consents_ending_before_the_date_and_renews_in_one_step(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    with unit_of_work() as ctx:
        builders.grant(ctx, school["emma"], school["mor"], given=NOW.date().isoformat())
    with unit_of_work(actor="rita") as ctx:
        before, ending = rounds.renewal_report(ctx, unit="bhg")
        assert before.month == 7
        assert before.day == 31
        assert before >= NOW.date()
        assert [(e.subject_id, e.purpose) for e in ending] == [(school["emma"], "facebook")]
        _, later = rounds.renewal_report(ctx, unit="bhg", before=NOW.date())
        assert later == []
        renewal = rounds.start_renewal(ctx, unit="bhg")
        assert renewal.purposes == ["facebook"]
    with unit_of_work(actor="otto") as ctx:
        assert rounds.renewal_report(ctx)[1] == []  # another unit's registrar sees none
    with unit_of_work(actor="otto") as ctx, pytest.raises(NotPermittedError):
        rounds.renewal_report(ctx, unit="bhg")


def test_the_round_and_its_links_verify_against_the_log(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    round_id, issued = start(unit_of_work)
    answer(unit_of_work, token_of(issued, school["mor"]), facebook="yes", yearbook="no")
    with unit_of_work(now=LATER, actor="rita") as ctx:
        rounds.issue_links(ctx, round_id=round_id, unanswered_only=True)
        rounds.close_round(ctx, round_id=round_id)
    with unit_of_work(now=LATER) as ctx:
        report = verify_log(ctx)
    assert report.ok
    with unit_of_work(writer=False) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(RoundLink)) == 5
    _ = date  # dates come from NOW


def test_a_guardian_may_ask_for_a_new_link_and_the_old_one_stops_working(
    unit_of_work: ContextFactory, school: dict[str, str]
) -> None:
    _, issued = start(unit_of_work)
    old = token_of(issued, school["mor"])
    with unit_of_work(now=LATER, actor="web") as ctx:
        new = round_answers.replace_link(ctx, token=old)
    assert new != old
    with pytest.raises(LinkRevokedError), unit_of_work(now=LATER, writer=False) as ctx:
        round_answers.open_link(ctx, token=old)
    receipt = answer(unit_of_work, new, facebook="yes", yearbook="yes")
    assert receipt.page.first_name == "Emma"
    with unit_of_work(now=LATER) as ctx:
        assert verify_log(ctx).ok
