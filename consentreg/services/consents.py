"""Consent events: grants, refusals and withdrawals. Append-only: nothing is updated or deleted;
a withdrawal is a new event effective at its own timestamp."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select

from consentreg.crypto import sha256_hex
from consentreg.db.models import ConsentEvent, Evidence, Person, Purpose
from consentreg.domain.calendar import default_valid_until, oslo_day, start_of_day
from consentreg.domain.model import EventKind, Method
from consentreg.errors import InvalidInputError, NotFoundError
from consentreg.services import audit_log
from consentreg.services.context import Context, new_id
from consentreg.services.people import active_guardianships, resolve_person
from consentreg.services.purposes import current_notice, purpose_by_code

MAX_EVIDENCE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class ConsentView:
    id: str
    subject_id: str
    purpose: str
    kind: str
    consenter_id: str
    method: str | None
    given_on: date
    valid_from: date | None
    valid_until: date | None
    effective_at: datetime
    notice_version: int
    withdraws: str | None
    evidence_sha256: str | None
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class EvidenceFile:
    """An evidence file the caller has read: its bytes and its base name."""

    data: bytes
    name: str


def read_evidence(path: Path) -> EvidenceFile:
    """Read an evidence file, or fail with exit 2 naming the problem (not the content)."""
    try:
        if not path.is_file():
            raise InvalidInputError(f"evidence file {path} does not exist or is not a file")
        if path.stat().st_size > MAX_EVIDENCE_BYTES:
            raise InvalidInputError(f"evidence file {path} is larger than 50 MB")
        return EvidenceFile(path.read_bytes(), path.name)
    except OSError as exc:
        raise InvalidInputError(f"evidence file {path} cannot be read ({exc.strerror})") from None


def _store_evidence(ctx: Context, evidence: EvidenceFile) -> Evidence:
    eid = new_id()
    row = Evidence(
        id=eid,
        sha256=sha256_hex(evidence.data),
        size=len(evidence.data),
        name_ct=ctx.keys.encrypt(evidence.name, table="evidence", column="name", row_id=eid),
        created_at=ctx.now,
        created_by=ctx.actor,
    )
    ctx.stage_file(
        ctx.evidence_dir / f"{eid}.bin", ctx.keys.encrypt_blob(evidence.data, blob_id=eid)
    )
    ctx.session.add(row)
    return row


def _check_consenter(ctx: Context, subject: Person, consenter: Person) -> None:
    if consenter.id == subject.id:
        return
    if not any(
        g.guardian_id == consenter.id for g in active_guardianships(ctx, child_id=subject.id)
    ):
        raise InvalidInputError(
            f"--by {consenter.id} is neither the subject nor a registered guardian of {subject.id}"
        )


def _next_seq(ctx: Context) -> int:
    return (ctx.session.scalar(select(func.max(ConsentEvent.seq))) or 0) + 1


def _lock_subject(ctx: Context, subject_id: str) -> None:
    """Serialise consent changes with publications that rely on this subject (PostgreSQL)."""
    ctx.session.execute(select(Person.id).where(Person.id == subject_id).with_for_update())


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
) -> str:
    """Record a grant or a refusal, expressed by the subject or one of their guardians."""
    purpose_row = purpose_by_code(ctx, purpose)
    subject_p = resolve_person(ctx, subject, role="subject")
    consenter = resolve_person(ctx, by, role="consenter")
    if method not in {m.value for m in Method}:
        raise InvalidInputError(
            f"--method must be paper, email, digital or in-person, not {method!r}"
        )
    today = oslo_day(ctx.now)
    given = given or today
    if given > today:
        raise InvalidInputError(f"--given {given.isoformat()} is in the future")
    valid_from, valid_until = _validity(purpose_row, kind=kind, given=given, until=until)
    _check_consenter(ctx, subject_p, consenter)
    _lock_subject(ctx, subject_p.id)
    return _insert(
        ctx,
        subject_p,
        purpose_row,
        consenter,
        kind=kind,
        method=method,
        given=given,
        effective_at=start_of_day(given),
        valid=(valid_from, valid_until),
        evidence=evidence,
    )


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
            f"--until {until.isoformat()} is before --given {given.isoformat()}"
        )
    return given, until


def _insert(
    ctx: Context,
    subject: Person,
    purpose: Purpose,
    consenter: Person,
    *,
    kind: EventKind,
    method: str | None,
    given: date,
    effective_at: datetime,
    valid: tuple[date | None, date | None],
    evidence: EvidenceFile | None = None,
    withdraws: ConsentEvent | None = None,
    reason: str | None = None,
) -> str:
    notice = (
        withdraws.notice_version
        if withdraws
        else current_notice(ctx, purpose.id, at=effective_at).version
    )
    ev_row = _store_evidence(ctx, evidence) if evidence else None
    cid = new_id()
    event = ConsentEvent(
        id=cid,
        seq=_next_seq(ctx),
        subject_id=subject.id,
        purpose_id=purpose.id,
        kind=kind.value,
        consenter_id=consenter.id,
        method=method,
        notice_version=notice,
        given_on=given,
        effective_at=effective_at,
        valid_from=valid[0],
        valid_until=valid[1],
        withdraws_id=withdraws.id if withdraws else None,
        reason_ct=(
            ctx.keys.encrypt(reason, table="consent_events", column="reason", row_id=cid)
            if reason
            else None
        ),
        evidence_id=ev_row.id if ev_row else None,
        recorded_at=ctx.now,
        recorded_by=ctx.actor,
    )
    ctx.session.add(event)
    ctx.session.flush()
    audit_log.append(
        ctx,
        f"consent.{kind.value}",
        ids={
            "consent": cid,
            "subject": subject.id,
            "purpose": purpose.id,
            "consenter": consenter.id,
            "withdraws": event.withdraws_id,
            "evidence": event.evidence_id,
        },
        payload={
            "seq": event.seq,
            "method": method,
            "notice_version": notice,
            "given_on": given.isoformat(),
            "effective_at": effective_at.isoformat(),
            "valid_from": valid[0].isoformat() if valid[0] else None,
            "valid_until": valid[1].isoformat() if valid[1] else None,
            "evidence_sha256": ev_row.sha256 if ev_row else None,
            "reason_ct_sha256": sha256_hex(event.reason_ct) if event.reason_ct else None,
        },
    )
    return cid


def withdraw(
    ctx: Context, *, consent_id: str, at: datetime | None = None, reason: str | None = None
) -> str:
    """Withdraw a grant, effective at `at` (default now); returns the withdrawal's ID."""
    grant = ctx.session.get(ConsentEvent, consent_id)
    if grant is None:
        raise NotFoundError(f"unknown consent {consent_id!r}")
    if grant.kind != EventKind.GRANT:
        raise InvalidInputError(
            f"consent {consent_id} is a {grant.kind}, only a grant can be withdrawn"
        )
    if ctx.session.scalar(select(ConsentEvent.id).where(ConsentEvent.withdraws_id == grant.id)):
        raise InvalidInputError(f"consent {consent_id} is already withdrawn")
    at = at or ctx.now
    if at > ctx.now:
        raise InvalidInputError("--at is in the future")
    if at < grant.effective_at:
        raise InvalidInputError("--at is before the consent was given")
    _lock_subject(ctx, grant.subject_id)
    subject = ctx.session.get_one(Person, grant.subject_id)
    consenter = ctx.session.get_one(Person, grant.consenter_id)
    purpose = ctx.session.get_one(Purpose, grant.purpose_id)
    return _insert(
        ctx,
        subject,
        purpose,
        consenter,
        kind=EventKind.WITHDRAWAL,
        method=None,
        given=oslo_day(at),
        effective_at=at,
        valid=(None, None),
        withdraws=grant,
        reason=reason.strip() if reason and reason.strip() else None,
    )


def list_consents(
    ctx: Context, *, subject: str | None = None, purpose: str | None = None
) -> list[ConsentView]:
    query = (
        select(ConsentEvent, Purpose.code, Evidence.sha256)
        .join(Purpose, Purpose.id == ConsentEvent.purpose_id)
        .outerjoin(Evidence, Evidence.id == ConsentEvent.evidence_id)
    )
    if subject:
        query = query.where(ConsentEvent.subject_id == resolve_person(ctx, subject).id)
    if purpose:
        query = query.where(ConsentEvent.purpose_id == purpose_by_code(ctx, purpose).id)
    rows = ctx.session.execute(query.order_by(ConsentEvent.seq)).all()
    return [_consent_view(e, code, sha) for e, code, sha in rows]


def _consent_view(e: ConsentEvent, code: str, evidence_sha: str | None) -> ConsentView:
    return ConsentView(
        e.id,
        e.subject_id,
        code,
        e.kind,
        e.consenter_id,
        e.method,
        e.given_on,
        e.valid_from,
        e.valid_until,
        e.effective_at,
        e.notice_version,
        e.withdraws_id,
        evidence_sha,
        e.recorded_at,
        e.recorded_by,
    )
