"""Consent events: grants, refusals and withdrawals. Append-only: nothing is updated or deleted;
a withdrawal is a new event effective at its own timestamp."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import func, or_, select

from consentreg.db.models import ConsentEvent, Evidence, Person, Purpose
from consentreg.domain import text
from consentreg.domain.calendar import default_valid_until, oslo_day, start_of_day
from consentreg.domain.model import EventKind, Method
from consentreg.errors import InvalidInputError, NotFoundError
from consentreg.i18n import msg
from consentreg.services.access import registrar_scope, require, require_in_scope
from consentreg.services.evidence import EvidenceFile, store_evidence
from consentreg.services.lookup import by_id
from consentreg.services.people import active_guardianships, owner_key, resolve_person
from consentreg.services.publishing.takedown import TakedownItem, takedown_for_consent
from consentreg.services.purposes import current_notice, purpose_by_code
from consentreg.services.row_batch import RowBatch
from consentreg.services.unit_of_work import Context, new_id


@dataclass(frozen=True)
class ConsentRecord:
    """One consent event as staff and auditors see it (`consent list`, the auditor's views)."""

    id: str
    seq: int
    kind: str
    subject_id: str
    purpose: str
    consenter_id: str
    method: str | None
    given_on: date
    effective_at: datetime
    valid_from: date | None
    valid_until: date | None
    notice_version: int
    withdraws: str | None
    evidence_sha256: str | None
    recorded_at: datetime
    recorded_by: str


def check_consenter(subject_id: str, consenter_id: str, guardians: set[str]) -> None:
    """The consenter must be the subject or one of the subject's guardians."""
    if consenter_id != subject_id and consenter_id not in guardians:
        raise InvalidInputError(
            msg(
                "--by {consenter_id} is neither the subject nor a registered guardian of {subject_id}",
                consenter_id=consenter_id,
                subject_id=subject_id,
            )
        )


def next_seq(ctx: Context) -> int:
    """The next consent-event sequence number (writers are serialised)."""
    return (ctx.session.scalar(select(func.max(ConsentEvent.seq))) or 0) + 1


def _lock_subject(ctx: Context, subject_id: str) -> None:
    """Serialise consent changes with publications that rely on this subject (PostgreSQL)."""
    ctx.session.execute(select(Person.id).where(Person.id == subject_id).with_for_update())


class NewEvent(NamedTuple):
    """A checked consent event, ready to stage (a named tuple: an import makes a million)."""

    subject_id: str
    purpose_id: str
    consenter_id: str
    kind: EventKind
    method: str | None
    given: date
    effective_at: datetime
    notice_version: int
    valid_from: date | None = None
    valid_until: date | None = None
    withdraws: str | None = None
    reason: str | None = None
    evidence: EvidenceFile | None = None


def stage_event(ctx: Context, batch: RowBatch, event: NewEvent, *, seq: int) -> str:
    """Stage one consent event with its audit event; returns its ID. Its evidence's bytes are
    written at once (unless stored before), in this transaction."""
    # the reason and the evidence are about the subject: under their own key (if they have one)
    owner = owner_key(ctx, event.subject_id) if event.reason or event.evidence else None
    stored = (
        store_evidence(ctx, event.evidence, before_write=batch.settle, owner=owner)
        if event.evidence
        else None
    )
    evidence, blob = stored if stored is not None else (None, None)
    cid = new_id()
    reason_ct = (
        ctx.keys.encrypt(
            event.reason, table="consent_events", column="reason", row_id=cid, person=owner
        )
        if event.reason
        else None
    )
    row = {
        "id": cid,
        "seq": seq,
        "subject_id": event.subject_id,
        "purpose_id": event.purpose_id,
        "kind": event.kind.value,
        "consenter_id": event.consenter_id,
        "method": event.method,
        "notice_version": event.notice_version,
        "given_on": event.given,
        "effective_at": event.effective_at,
        "valid_from": event.valid_from,
        "valid_until": event.valid_until,
        "withdraws_id": event.withdraws,
        "reason_ct": reason_ct,
        "evidence_id": evidence["id"] if evidence else None,
        "recorded_at": ctx.now,
        "recorded_by": ctx.actor,
    }
    batch.record(
        f"consent.{event.kind.value}",
        {"evidence_blobs": blob, "evidence": evidence, "consent_events": row},
        written=("evidence_blobs",),
    )
    return cid


def _validity(
    purpose: Purpose, *, kind: EventKind, given: date, until: date | None
) -> tuple[date | None, date | None]:
    if kind is not EventKind.GRANT:
        if until is not None:
            raise InvalidInputError("--until applies to grants only")
        return None, None
    until = until or default_valid_until(
        given, valid_until_mmdd=purpose.valid_until_mmdd, valid_days=purpose.valid_days
    )
    if until < given:
        raise InvalidInputError(
            msg(
                "--until {until_isoformat} is before --given {given_isoformat}",
                until_isoformat=until.isoformat(),
                given_isoformat=given.isoformat(),
            )
        )
    return given, until


_METHODS = frozenset(m.value for m in Method)


def check_decision(
    ctx: Context,
    purpose: Purpose,
    *,
    kind: EventKind,
    method: str,
    given: date | None,
    until: date | None,
) -> tuple[date, date | None, date | None]:
    """Validate a grant's or refusal's fields; returns (given, valid_from, valid_until)."""
    if method not in _METHODS:
        raise InvalidInputError(
            msg(
                "--method must be paper, email, digital or in-person, not {method!r}", method=method
            )
        )
    today = oslo_day(ctx.now)
    given = given or today
    if given > today:
        raise InvalidInputError(
            msg("--given {given_isoformat} is in the future", given_isoformat=given.isoformat())
        )
    valid_from, valid_until = _validity(purpose, kind=kind, given=given, until=until)
    return given, valid_from, valid_until


def bound_version(ctx: Context, purpose: Purpose, named: int | None) -> int:
    """The notice version a decision recorded now binds to: the one in force now, or `named`,
    which must be one that existed by now."""
    current = current_notice(ctx, purpose.id, at=ctx.now).version
    if named is None:
        return current
    if not 1 <= named <= current:
        raise InvalidInputError(
            msg(
                "--notice-version {named}: purpose {purpose_code} has notice versions 1 to {current}",
                named=named,
                purpose_code=purpose.code,
                current=current,
            )
        )
    return named


def record_decision(
    ctx: Context,
    *,
    subject: str,
    purpose: str,
    by: str,
    kind: EventKind,
    method: str = "paper",
    given: date | None = None,
    until: date | None = None,
    evidence: EvidenceFile | None = None,
    notice_version: int | None = None,
) -> str:
    """Record a grant or a refusal, expressed by the subject or one of their guardians.

    It takes effect at the instant it is recorded, or with `given` (a back-dated paper form) at
    the start of that day in Oslo. It binds to the notice version in force now, or to the one
    named (`notice_version`: an older paper form), never to one the consenter was not shown."""
    purpose_row = purpose_by_code(ctx, purpose)
    subject_p = resolve_person(ctx, subject, role="subject")
    require(ctx, f"consent.{kind.value}", units=[subject_p.unit_id])
    owner_key(ctx, subject_p.id)  # an erased subject: nothing more is recorded about them
    consenter = resolve_person(ctx, by, role="consenter")
    effective_at = start_of_day(given) if given is not None else ctx.now
    version = bound_version(ctx, purpose_row, notice_version)
    given, valid_from, valid_until = check_decision(
        ctx, purpose_row, kind=kind, method=method, given=given, until=until
    )
    guardians = {g.guardian_id for g in active_guardianships(ctx, child_id=subject_p.id)}
    check_consenter(subject_p.id, consenter.id, guardians)
    _lock_subject(ctx, subject_p.id)
    batch = RowBatch(ctx)
    cid = stage_event(
        ctx,
        batch,
        NewEvent(
            subject_id=subject_p.id,
            purpose_id=purpose_row.id,
            consenter_id=consenter.id,
            kind=kind,
            method=method,
            given=given,
            effective_at=effective_at,
            notice_version=version,
            valid_from=valid_from,
            valid_until=valid_until,
            evidence=evidence,
        ),
        seq=next_seq(ctx),
    )
    batch.flush()
    return cid


@dataclass(frozen=True)
class Withdrawal:
    """A recorded withdrawal and its take-down list: every release that relied on that person
    for that purpose and is not yet taken down."""

    id: str
    takedown: list[TakedownItem]


def record_decisions(
    ctx: Context,
    *,
    subject: str,
    purposes: list[str],
    consenters: list[str],
    kind: EventKind,
    method: str = "paper",
    given: date | None = None,
    until: date | None = None,
    evidence: EvidenceFile | None = None,
    notice_version: int | None = None,
) -> list[str]:
    """One paper form: a decision for each purpose by each consenter, in this one transaction
    (all or none), the evidence stored once. Returns the IDs, purpose by purpose."""
    purposes, consenters = list(dict.fromkeys(purposes)), list(dict.fromkeys(consenters))
    if not purposes or not consenters:
        raise InvalidInputError("give at least one --purpose and one --by")
    if notice_version is not None and len(purposes) > 1:
        raise InvalidInputError(
            "--notice-version names one purpose's notice: record each purpose on its own"
        )
    return [
        record_decision(
            ctx,
            subject=subject,
            purpose=purpose,
            by=by,
            kind=kind,
            method=method,
            given=given,
            until=until,
            evidence=evidence,
            notice_version=notice_version,
        )
        for purpose in purposes
        for by in consenters
    ]


@dataclass(frozen=True)
class ConsentNamed:
    """A consent named as people name it: whose, for what, given by whom."""

    subject: str
    purpose: str
    by: str


def grant_named(ctx: Context, named: ConsentNamed) -> ConsentEvent:
    """The grant in force that `named` names: the consenter's latest grant for the subject and
    purpose that no withdrawal ends. NotFoundError when there is none."""
    subject = resolve_person(ctx, named.subject, role="subject")
    consenter = resolve_person(ctx, named.by, role="consenter")
    purpose = purpose_by_code(ctx, named.purpose)
    withdrawn = select(ConsentEvent.withdraws_id).where(ConsentEvent.withdraws_id.is_not(None))
    grant = ctx.session.scalar(
        select(ConsentEvent)
        .where(
            ConsentEvent.subject_id == subject.id,
            ConsentEvent.purpose_id == purpose.id,
            ConsentEvent.consenter_id == consenter.id,
            ConsentEvent.kind == EventKind.GRANT.value,
            ConsentEvent.id.not_in(withdrawn),
        )
        .order_by(ConsentEvent.seq.desc())
        .limit(1)
    )
    if grant is None:
        raise NotFoundError(
            msg(
                "no consent of {consenter_id} for {subject_id} and {named_purpose} to withdraw",
                consenter_id=consenter.id,
                subject_id=subject.id,
                named_purpose=named.purpose,
            )
        )
    return grant


def withdraw_consent(
    ctx: Context,
    *,
    consent_id: str | None = None,
    named: ConsentNamed | None = None,
    at: datetime | None = None,
    reason: str | None = None,
) -> Withdrawal:
    """The withdrawal use case: record it (see `withdraw`) and answer with its take-down list.
    The consent is given by its ID (or a prefix), or `named` by subject, purpose and consenter."""
    if consent_id is not None and named is None:
        grant = by_id(ctx, ConsentEvent, consent_id, what="consent")
    elif named is not None and consent_id is None:
        grant = grant_named(ctx, named)
    else:
        raise InvalidInputError("name the consent by its ID, or by --subject, --purpose and --by")
    wid = withdraw(ctx, consent_id=grant.id, at=at, reason=reason)
    return Withdrawal(wid, takedown_for_consent(ctx, consent_id=grant.id))


def withdraw(
    ctx: Context,
    *,
    consent_id: str,
    at: datetime | None = None,
    reason: str | None = None,
    method: str | None = None,
    evidence: EvidenceFile | None = None,
) -> str:
    """Withdraw a grant, effective at `at` (default now); returns the withdrawal's ID. A
    withdrawal through a guardian's link (issue #21) says `method` digital and carries the
    submission as its `evidence`."""
    grant = by_id(ctx, ConsentEvent, consent_id, what="consent")
    require(ctx, "consent.withdrawal", units=[_unit_of(ctx, grant.subject_id)])
    if grant.kind != EventKind.GRANT:
        raise InvalidInputError(
            msg(
                "consent {grant_id} is a {grant_kind}, only a grant can be withdrawn",
                grant_id=grant.id,
                grant_kind=grant.kind,
            )
        )
    if ctx.session.scalar(select(ConsentEvent.id).where(ConsentEvent.withdraws_id == grant.id)):
        raise InvalidInputError(msg("consent {grant_id} is already withdrawn", grant_id=grant.id))
    reason = reason.strip() if reason and reason.strip() else None
    if reason:
        text.check_text(reason, field="--reason", limit=text.REASON)
    at = at or ctx.now
    if at > ctx.now:
        raise InvalidInputError("--at is in the future")
    if at < grant.effective_at:
        raise InvalidInputError("--at is before the consent was given")
    _lock_subject(ctx, grant.subject_id)
    batch = RowBatch(ctx)
    wid = stage_event(
        ctx,
        batch,
        NewEvent(
            subject_id=grant.subject_id,
            purpose_id=grant.purpose_id,
            consenter_id=grant.consenter_id,
            kind=EventKind.WITHDRAWAL,
            method=method,
            given=oslo_day(at),
            effective_at=at,
            notice_version=grant.notice_version,
            withdraws=grant.id,
            reason=reason,
            evidence=evidence,
        ),
        seq=next_seq(ctx),
    )
    batch.flush()
    return wid


def _unit_of(ctx: Context, person_id: str) -> str | None:
    return ctx.session.scalar(select(Person.unit_id).where(Person.id == person_id))


def list_consents(
    ctx: Context, *, subject: str | None = None, purpose: str | None = None
) -> list[ConsentRecord]:
    require(ctx, "read.register")
    query = (
        select(ConsentEvent, Purpose.code, Evidence.sha256)
        .join(Purpose, Purpose.id == ConsentEvent.purpose_id)
        .outerjoin(Evidence, Evidence.id == ConsentEvent.evidence_id)
    )
    if subject:
        person = resolve_person(ctx, subject)
        require_in_scope(ctx, person.unit_id)
        query = query.where(ConsentEvent.subject_id == person.id)
    if purpose:
        query = query.where(ConsentEvent.purpose_id == purpose_by_code(ctx, purpose).id)
    scope = registrar_scope(ctx)
    if scope is not None:
        in_scope = select(Person.id).where(or_(Person.unit_id.is_(None), Person.unit_id.in_(scope)))
        query = query.where(ConsentEvent.subject_id.in_(in_scope))
    rows = ctx.session.execute(query.order_by(ConsentEvent.seq)).all()
    return [_consent_view(e, code, sha) for e, code, sha in rows]


def _consent_view(e: ConsentEvent, code: str, evidence_sha: str | None) -> ConsentRecord:
    return ConsentRecord(
        id=e.id,
        seq=e.seq,
        kind=e.kind,
        subject_id=e.subject_id,
        purpose=code,
        consenter_id=e.consenter_id,
        method=e.method,
        given_on=e.given_on,
        effective_at=e.effective_at,
        valid_from=e.valid_from,
        valid_until=e.valid_until,
        notice_version=e.notice_version,
        withdraws=e.withdraws_id,
        evidence_sha256=evidence_sha,
        recorded_at=e.recorded_at,
        recorded_by=e.recorded_by,
    )
