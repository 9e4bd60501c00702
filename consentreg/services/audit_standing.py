"""Where each person stands, per purpose, at an instant: the latest decision of each consenter and
whether publishing is allowed, judged by the gate's own rules on the state the audit log
describes (consentreg.domain.rules.evaluate on a photo showing only that person).

Used by `audit consents` (IDs) and `report coverage` (names).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from consentreg.db.models import Person
from consentreg.domain import model
from consentreg.domain.rules import (
    evaluate,
    latest_decisions,  # R6 as the gate has it
)
from consentreg.errors import AuditVerificationError
from consentreg.services.audit_replay import State
from consentreg.services.context import Context
from consentreg.services.people import decrypt_born


@dataclass(frozen=True)
class DecisionView:
    """One consenter's latest decision in force; `role`: self, guardian, guardian without
    parental responsibility, or other (no longer a guardian)."""

    consent_id: str
    consenter_id: str
    role: str
    kind: str
    effective_at: datetime
    valid_from: date | None
    valid_until: date | None
    notice_version: int
    evidence_sha256: str | None


@dataclass(frozen=True)
class Standing:
    subject_id: str
    kind: str
    unit: str | None
    purpose: str
    allowed: bool
    reasons: list[str]
    decisions: list[DecisionView]


def birth_dates(ctx: Context, person_ids: Sequence[str]) -> dict[str, date]:
    """Birth dates (for the 15-year rule), decrypted from the register; a person the log knows
    but the register lost fails verification."""
    rows = {p.id: p for p in ctx.session.scalars(select(Person))}
    missing = [pid for pid in person_ids if pid not in rows]
    if missing:
        raise AuditVerificationError(
            f"person {missing[0]} is in the audit log but not in the register:"
            " run `consentreg audit verify`"
        )
    return {pid: decrypt_born(ctx, rows[pid]) for pid in person_ids}


def _values(state: State, table: str) -> list[dict[str, Any]]:
    return [row.values for row in state.rows(table).values()]


def domain_purpose(state: State, purpose_id: str, at: datetime) -> model.Purpose:
    """The purpose as the rules see it: the oldest notice version still sufficient at `at`."""
    purpose = state.rows("purposes")[purpose_id].values
    required = [
        n["version"]
        for n in _values(state, "notice_versions")
        if n["purpose_id"] == purpose_id and n["requires_new_consent"] and n["created_at"] <= at
    ]
    return model.Purpose(
        code=purpose["code"],
        guardian_policy=model.GuardianPolicy(purpose["guardian_policy"]),
        min_notice_version=max(required, default=1),
    )


def _consent_event(e: dict[str, Any], purpose_code: str) -> model.ConsentEvent:
    return model.ConsentEvent(
        id=e["id"],
        seq=e["seq"],
        subject_id=e["subject_id"],
        purpose=purpose_code,
        kind=model.EventKind(e["kind"]),
        consenter_id=e["consenter_id"],
        effective_at=e["effective_at"],
        notice_version=e["notice_version"],
        valid_from=e["valid_from"],
        valid_until=e["valid_until"],
        withdraws=e["withdraws_id"],
    )


@dataclass
class _Index:
    """The replayed state grouped once: each person and purpose is looked up, not searched."""

    state: State
    at: datetime
    purposes: dict[str, model.Purpose]
    guardians: dict[str, list[model.Guardian]] = field(default_factory=dict)
    events: dict[tuple[str, str], list[model.ConsentEvent]] = field(default_factory=dict)

    @classmethod
    def build(cls, state: State, at: datetime, purpose_ids: Sequence[str]) -> _Index:
        index = cls(state, at, {p: domain_purpose(state, p, at) for p in purpose_ids})
        for g in _values(state, "guardianships"):
            if g["removed_at"] is None or g["removed_at"] > at:  # as the gate counts them
                link = model.Guardian(g["guardian_id"], g["parental_responsibility"])
                index.guardians.setdefault(g["child_id"], []).append(link)
        codes = {pid: row.values["code"] for pid, row in state.rows("purposes").items()}
        for e in _values(state, "consent_events"):
            event = _consent_event(e, codes[e["purpose_id"]])
            index.events.setdefault((e["subject_id"], e["purpose_id"]), []).append(event)
        return index


def _role(subject: model.Subject, consenter_id: str) -> str:
    if consenter_id == subject.id:
        return "self"
    links = {g.person_id: g.parental_responsibility for g in subject.guardians}
    if consenter_id not in links:
        return "other"
    return "guardian" if links[consenter_id] else "guardian without parental responsibility"


def _decision_view(state: State, event: model.ConsentEvent, subject: model.Subject) -> DecisionView:
    evidence_id = state.rows("consent_events")[event.id].values["evidence_id"]
    evidence = state.get("evidence", evidence_id) if evidence_id else None
    return DecisionView(
        consent_id=event.id,
        consenter_id=event.consenter_id,
        role=_role(subject, event.consenter_id),
        kind=event.kind.value,
        effective_at=event.effective_at,
        valid_from=event.valid_from,
        valid_until=event.valid_until,
        notice_version=event.notice_version,
        evidence_sha256=evidence["sha256"] if evidence else None,
    )


def _standing(index: _Index, subject: model.Subject, purpose_id: str) -> Standing:
    purpose, at = index.purposes[purpose_id], index.at
    events = index.events.get((subject.id, purpose_id), [])
    decision = evaluate(
        photo=model.PhotoFacts(True, True, True, (subject.id,)),
        purpose=purpose,
        subjects={subject.id: subject},
        events=events,
        at=at,
    )
    latest = latest_decisions(events, purpose.code, at)
    person = index.state.rows("people")[subject.id].values
    unit = index.state.get("units", person["unit_id"]) if person["unit_id"] else None
    return Standing(
        subject_id=subject.id,
        kind=person["kind"],
        unit=unit["code"] if unit else None,
        purpose=purpose.code,
        allowed=decision.allowed,
        reasons=list(dict.fromkeys(r.code.value for r in decision.reasons)),
        decisions=[_decision_view(index.state, latest[k], subject) for k in sorted(latest)],
    )


def standings(
    ctx: Context,
    state: State,
    *,
    at: datetime,
    person_ids: Sequence[str],
    purpose_ids: Sequence[str],
) -> list[Standing]:
    """For each person and purpose: allowed or not at `at`, why not, and who decided what."""
    born = birth_dates(ctx, person_ids)
    index = _Index.build(state, at, purpose_ids)
    found = []
    for pid in person_ids:
        subject = model.Subject(
            id=pid,
            born=born[pid],
            full_name="",  # no caption is judged here
            protected=state.rows("people")[pid].values["protected"],
            guardians=tuple(index.guardians.get(pid, ())),
        )
        found += [_standing(index, subject, purpose_id) for purpose_id in purpose_ids]
    return found
