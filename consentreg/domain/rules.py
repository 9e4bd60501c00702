"""The publishing gate: docs/rules.md R1-R11 as one pure function, `evaluate`.

Every reason is listed (never just the first), per person by id; names never appear in a message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from operator import attrgetter
from typing import NamedTuple

from consentreg.domain import faces
from consentreg.domain.calendar import age_on, fifteenth_birthday, oslo_day
from consentreg.domain.caption import Caption, NamedPerson, NameMatcher
from consentreg.domain.model import (
    ConsentEvent,
    Decision,
    EventKind,
    GuardianPolicy,
    PhotoFacts,
    Purpose,
    Reason,
    ReasonCode,
    Subject,
)
from consentreg.i18n import N_, Message, msg

ADULT_AGE = 18

_MESSAGES = {
    ReasonCode.NO_CONSENT: N_("{who} has not consented"),
    ReasonCode.GUARDIAN_CONSENT_MISSING: N_("{who} has not consented"),
    ReasonCode.CONSENT_REFUSED: N_("{who} has refused"),
    ReasonCode.CONSENT_WITHDRAWN: N_("{who} has withdrawn consent"),
    ReasonCode.CONSENT_EXPIRED: N_("consent from {who} expired after {until}"),
    ReasonCode.CONSENT_OUTDATED_NOTICE: N_(
        "consent from {who} is to notice version {version}; version {required} or newer is needed"
    ),
}
_NOT_YET_VALID = N_("consent from {who} is not valid before {valid_from}")

_Key = tuple[str, str]  # (subject id, consenter id)
_Verdict = tuple[list[Reason], list[str]]  # (reasons, ids of the grants relied on)


class _Context(NamedTuple):
    """What every subject is judged against: the purpose, the Oslo day, the decisions in force."""

    purpose: Purpose
    day: date
    latest: Mapping[_Key, ConsentEvent]
    named: Mapping[str, NamedPerson]  # R11: whom the caption names in full and protects

    def decision_of(self, subject_id: str, consenter_id: str) -> ConsentEvent | None:
        return self.latest.get((subject_id, consenter_id))


def evaluate(
    *,
    photo: PhotoFacts,
    purpose: Purpose,
    subjects: Mapping[str, Subject],
    events: Sequence[ConsentEvent],
    at: datetime,
    caption: str | None = None,
    caption_names: Sequence[NamedPerson] | None = None,
) -> Decision:
    """May `photo` be published for `purpose` at the instant `at`? Lists every reason if not.

    `subjects` must hold every id in `photo.subject_ids` (a missing one raises KeyError);
    `events` may hold any events, those of other purposes or later than `at` are ignored.
    `caption_names`: the registered people the caption names in full (the gate finds them in
    the whole register); None: the caption is compared with the tagged people's names only.
    """
    latest = latest_decisions(events, purpose.code, at) if photo.registered else {}
    return judge(
        photo=photo,
        purpose=purpose,
        subjects=subjects,
        latest=latest,
        at=at,
        caption=caption,
        caption_names=caption_names,
    )


def judge(
    *,
    photo: PhotoFacts,
    purpose: Purpose,
    subjects: Mapping[str, Subject],
    latest: Mapping[_Key, ConsentEvent],
    at: datetime,
    caption: str | None = None,
    caption_names: Sequence[NamedPerson] | None = None,
) -> Decision:
    """`evaluate` on the decisions in force already found by `latest_decisions(events,
    purpose.code, at)`: for callers that show those decisions too and need not find them twice."""
    if not photo.registered:
        return Decision(reasons=(_photo_reason(ReasonCode.UNREGISTERED_PHOTO),))
    day = oslo_day(at)
    named = _caption_names(caption, caption_names, photo, subjects, day)
    ctx = _Context(purpose, day, latest, named)
    reasons = _photo_reasons(photo)
    for hidden_id in dict.fromkeys(photo.hidden_ids):
        if _subject(subjects, hidden_id).protected:  # R9 refuses even when not identifiable
            message = msg(
                "subject {id} has a protected identity (tagged not identifiable)", id=hidden_id
            )
            reasons.append(Reason(ReasonCode.PROTECTED_IDENTITY, hidden_id, message))
    relied_on: list[str] = []
    for subject_id in dict.fromkeys(photo.subject_ids):
        subject_reasons, grants = _judge_subject(_subject(subjects, subject_id), ctx)
        reasons.extend(subject_reasons)
        relied_on.extend(grants)
    reasons.extend(_caption_reasons_untagged(photo, ctx, reasons))
    return Decision(reasons=tuple(reasons), relied_on=tuple(dict.fromkeys(relied_on)))


def judge_subject(
    subject: Subject, *, purpose: Purpose, latest: Mapping[_Key, ConsentEvent], day: date
) -> _Verdict:
    """What `judge` finds for one subject of a registered, completely tagged photo with its
    photographer recorded and no caption, on the Oslo `day`: every reason the subject blocks
    publication (none: allowed), and the grants relied on. For callers that judge a whole
    register person by person (`audit consents`, `report coverage`); `judge` runs the same
    step for each tagged subject."""
    return _judge_subject(subject, _Context(purpose, day, latest, {}))


def _subject(subjects: Mapping[str, Subject], subject_id: str) -> Subject:
    try:
        return subjects[subject_id]
    except KeyError:
        raise KeyError(f"subject {subject_id} is tagged in the photo but was not loaded") from None


def _photo_reason(code: ReasonCode) -> Reason:
    messages = {
        ReasonCode.UNREGISTERED_PHOTO: msg("the photo is not in the register"),
        ReasonCode.TAGGING_INCOMPLETE: msg("tagging of the photo is not confirmed complete"),
        ReasonCode.COPYRIGHT_UNKNOWN: msg("the photographer is not recorded"),
    }
    return Reason(code=code, subject_id=None, message=messages[code])


def _photo_reasons(photo: PhotoFacts) -> list[Reason]:
    reasons = []
    if not photo.tagging_complete:
        reasons.append(_photo_reason(ReasonCode.TAGGING_INCOMPLETE))
    if not photo.photographer_recorded:
        reasons.append(_photo_reason(ReasonCode.COPYRIGHT_UNKNOWN))
    face_reason = _faces_reason(photo)
    if face_reason is not None:
        reasons.append(face_reason)
    return reasons


def _faces_reason(photo: PhotoFacts) -> Reason | None:
    """R17: a face that no tag accounts for refuses; so does a photo never looked at."""
    if photo.faces is None:
        message = msg(
            "the photo's faces were never checked (registered before face detection or "
            "without it): consentreg photo detect FILE"
        )
        return Reason(ReasonCode.FACES_UNCHECKED, None, message)
    coverage = faces.cover(photo.faces, photo.face_tags)
    if not coverage.unaccounted:
        return None
    listed = "; ".join(
        msg("face {n} at {box}", n=i + 1, box=faces.box_text(photo.faces[i]))
        for i in coverage.uncovered
    )
    found, accounted = len(photo.faces), len(photo.faces) - coverage.unaccounted
    message = msg(
        "faces found: {found}, accounted for by tags: {accounted}; no tag's region covers {listed}",
        found=found,
        accounted=accounted,
        listed=listed,
    )
    if coverage.by_count:
        message = msg(
            "faces found: {found}, accounted for by tags: {accounted}; no tag's region covers "
            "{listed} ({by_count} tag(s) without a region count for as many)",
            found=found,
            accounted=accounted,
            listed=listed,
            by_count=coverage.by_count,
        )
    return Reason(ReasonCode.FACES_UNTAGGED, None, message)


_IN_TIME_ORDER = attrgetter("effective_at", "seq")


def latest_decisions(
    events: Sequence[ConsentEvent], purpose_code: str, at: datetime
) -> dict[_Key, ConsentEvent]:
    """The latest event in force at `at` per (subject, consenter), for this purpose only (R1, R6).

    A withdrawal counts against the consenter of the grant it withdraws, when that grant is known.
    """
    in_force = [e for e in events if e.purpose == purpose_code and e.effective_at <= at]
    if len(in_force) > 1:
        in_force.sort(key=_IN_TIME_ORDER)
    grants: dict[str, ConsentEvent] | None = None  # by id; built at the first withdrawal
    latest: dict[_Key, ConsentEvent] = {}
    for event in in_force:
        consenter = event.consenter_id
        if event.withdraws is not None:
            if grants is None:
                grants = {e.id: e for e in in_force if e.kind is EventKind.GRANT}
            withdrawn = grants.get(event.withdraws)
            if withdrawn is not None:
                consenter = withdrawn.consenter_id
        latest[(event.subject_id, consenter)] = event
    return latest


def _judge_subject(subject: Subject, ctx: _Context) -> _Verdict:
    """Every reason this subject blocks publication; the grants relied on if there are none."""
    reasons: list[Reason] = []
    if subject.protected:
        message = msg("subject {id} has a protected identity", id=subject.id)
        reasons.append(Reason(ReasonCode.PROTECTED_IDENTITY, subject.id, message))
    if ctx.day >= fifteenth_birthday(subject.born):
        consent_reasons, relied_on = _self_decides(subject, ctx)
    else:
        consent_reasons, relied_on = _guardians_decide(subject, ctx)
    reasons.extend(consent_reasons)
    if subject.id in ctx.named:
        reasons.append(_caption_reason(ctx.named[subject.id]))
    return reasons, ([] if reasons else relied_on)


def _caption_names(
    caption: str | None,
    given: Sequence[NamedPerson] | None,
    photo: PhotoFacts,
    subjects: Mapping[str, Subject],
    day: date,
) -> dict[str, NamedPerson]:
    """R11: the people the caption names in full whom that refuses: those under 18 on the day,
    and anyone with a protected identity (R9). Without `given`, the tagged people are read."""
    if not caption:
        return {}
    if given is None:
        read = Caption(caption)
        tagged = [
            _subject(subjects, pid)
            for pid in dict.fromkeys((*photo.subject_ids, *photo.hidden_ids))
        ]
        given = [
            NamedPerson(s.id, s.born, s.protected)
            for s in tagged
            if read.names(NameMatcher(s.full_name))
        ]
    return {p.id: p for p in given if p.protected or age_on(p.born, day) < ADULT_AGE}


def _caption_reason(person: NamedPerson) -> Reason:
    message = msg("the caption links subject {id} to their full name", id=person.id)
    if person.protected:
        message = msg(
            "the caption links subject {id} to their full name, and their identity is protected",
            id=person.id,
        )
    return Reason(ReasonCode.CAPTION_FULL_NAME, person.id, message)


def _caption_reasons_untagged(
    photo: PhotoFacts, ctx: _Context, found: Sequence[Reason]
) -> list[Reason]:
    """R11 for the people the caption names who are not tagged identifiable in the photo (a
    protected one also refuses as such, R9, unless already said)."""
    tagged = set(photo.subject_ids)
    protected_said = {r.subject_id for r in found if r.code is ReasonCode.PROTECTED_IDENTITY}
    reasons: list[Reason] = []
    for pid, person in ctx.named.items():
        if pid in tagged:
            continue
        reasons.append(_caption_reason(person))
        if person.protected and pid not in protected_said:
            message = msg("the caption names subject {id}, whose identity is protected", id=pid)
            reasons.append(Reason(ReasonCode.PROTECTED_IDENTITY, pid, message))
    return reasons


def _self_decides(subject: Subject, ctx: _Context) -> _Verdict:
    """R4: from the 15th birthday only the person's own decision counts.

    An own refusal counts whenever it was given (R5); an own grant or withdrawal that took effect
    before the 15th birthday does not.
    """
    who = msg("subject {id}", id=subject.id)
    own = ctx.decision_of(subject.id, subject.id)
    if own is not None and _counts_as_own_decision(own, subject):
        problems = _problems(own, ctx)
        reasons = [_reason(code, subject.id, who, own, ctx) for code in problems]
        return reasons, [] if problems else [own.id]
    if any(_is_grant(ctx.decision_of(subject.id, gid)) for gid in _responsible(subject)):
        message = msg("{who} is 15 or older and must consent themself", who=who)
        return [Reason(ReasonCode.SELF_CONSENT_REQUIRED, subject.id, message)], []
    return [_reason(ReasonCode.NO_CONSENT, subject.id, who, None, ctx)], []


def _counts_as_own_decision(own: ConsentEvent, subject: Subject) -> bool:
    if own.kind is EventKind.REFUSAL:
        return True
    return oslo_day(own.effective_at) >= fifteenth_birthday(subject.born)


def _guardians_decide(subject: Subject, ctx: _Context) -> _Verdict:
    """R3 under 15: the guardians with parental responsibility decide; R5: the child's "no" wins."""
    reasons: list[Reason] = []
    own = ctx.decision_of(subject.id, subject.id)
    if own is not None and own.kind is EventKind.REFUSAL:
        who = msg("subject {id}", id=subject.id)
        reasons.append(_reason(ReasonCode.CONSENT_REFUSED, subject.id, who, own, ctx))
    guardian_ids = _responsible(subject)
    if not guardian_ids:
        message = msg(
            "subject {id} has no guardian with parental responsibility registered", id=subject.id
        )
        reasons.append(Reason(ReasonCode.GUARDIAN_CONSENT_MISSING, subject.id, message))
        return reasons, []
    guardian_reasons, relied_on = _apply_policy(subject, guardian_ids, ctx)
    return reasons + guardian_reasons, relied_on


def _apply_policy(subject: Subject, guardian_ids: Sequence[str], ctx: _Context) -> _Verdict:
    """ALL: every responsible guardian needs a valid grant. ANY: one suffices, unless one refused."""
    latest, sid = ctx.latest, subject.id
    decisions: dict[str, ConsentEvent | None] = {}
    problems: dict[str, tuple[ReasonCode, ...]] = {}
    relied_on: list[str] = []
    failing: list[str] = []
    for gid in guardian_ids:  # one pass: a register's audit judges every child in it
        event = decisions[gid] = latest.get((sid, gid))
        found = problems[gid] = _problems(event, ctx)
        if found:
            failing.append(gid)
        elif event is not None:
            relied_on.append(event.id)
    if not failing:
        return [], relied_on
    if ctx.purpose.guardian_policy is GuardianPolicy.ANY and relied_on:
        failing = [gid for gid in failing if ReasonCode.CONSENT_REFUSED in problems[gid]]
    reasons = [
        _reason(_as_guardian(code), subject.id, msg("guardian {id}", id=gid), decisions[gid], ctx)
        for gid in failing
        for code in problems[gid]
    ]
    return reasons, relied_on


def _responsible(subject: Subject) -> list[str]:
    """Ids of the guardians with parental responsibility; the others never count."""
    return list(
        dict.fromkeys([g.person_id for g in subject.guardians if g.parental_responsibility])
    )


def _is_grant(event: ConsentEvent | None) -> bool:
    return event is not None and event.kind is EventKind.GRANT


def _problems(event: ConsentEvent | None, ctx: _Context) -> tuple[ReasonCode, ...]:
    """Why one consenter's latest decision does not carry; empty when it is a valid grant.

    NO_CONSENT stands for "no consent yet" (nothing recorded, or a grant not valid until later).
    """
    if event is None:
        return (ReasonCode.NO_CONSENT,)
    if event.kind is EventKind.REFUSAL:
        return (ReasonCode.CONSENT_REFUSED,)
    if event.kind is EventKind.WITHDRAWAL:
        return (ReasonCode.CONSENT_WITHDRAWN,)
    if event.valid_from is not None and ctx.day < event.valid_from:
        return (ReasonCode.NO_CONSENT,)
    found: list[ReasonCode] = []
    if event.valid_until is not None and ctx.day > event.valid_until:
        found.append(ReasonCode.CONSENT_EXPIRED)
    if event.notice_version < ctx.purpose.min_notice_version:
        found.append(ReasonCode.CONSENT_OUTDATED_NOTICE)
    return tuple(found)


def _as_guardian(code: ReasonCode) -> ReasonCode:
    return ReasonCode.GUARDIAN_CONSENT_MISSING if code is ReasonCode.NO_CONSENT else code


def _reason(
    code: ReasonCode, subject_id: str, who: Message, event: ConsentEvent | None, ctx: _Context
) -> Reason:
    """A consent reason about `subject_id`; `who` names the consenter by role and id."""
    template = _MESSAGES[code]
    missing = code in (ReasonCode.NO_CONSENT, ReasonCode.GUARDIAN_CONSENT_MISSING)
    if missing and event is not None and event.kind is EventKind.GRANT:
        template = _NOT_YET_VALID
    message = msg(
        template,
        who=who,
        until=event.valid_until if event else None,
        valid_from=event.valid_from if event else None,
        version=event.notice_version if event else None,
        required=ctx.purpose.min_notice_version,
    )
    return Reason(code=code, subject_id=subject_id, message=message)
