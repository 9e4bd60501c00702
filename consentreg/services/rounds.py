"""Consent rounds (issue #21), the staff's side: start a round for a unit (its sub-units
included) and a set of purposes, issue each recipient a personal link (a random token, stored
only as its SHA-256), see how far the round has come, revoke a link, close the round; and the
renewal report of consents that end before a date with its one-step renewal round.

The guardian's side (a page opened and answered through a link) is services/round_answers.py;
the letters and e-mails that carry the links are services/round_letters.py."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import select

from consentreg.crypto import sha256_hex
from consentreg.db.models import ConsentEvent, Person, Purpose, Round, RoundLink, Unit
from consentreg.domain import rounds as rules
from consentreg.domain.audit_chain import canonical_json
from consentreg.domain.calendar import oslo_day
from consentreg.domain.model import EventKind, PersonKind
from consentreg.errors import InvalidInputError, NotFoundError
from consentreg.services.access import registrar_scope, require, require_in_scope
from consentreg.services.audit import log as audit_log
from consentreg.services.audit.events import record_query
from consentreg.services.lookup import by_id
from consentreg.services.people import decrypt_name
from consentreg.services.purposes import purpose_by_code
from consentreg.services.round_progress import child_progress, recipients_by_child
from consentreg.services.unit_of_work import Context, new_id
from consentreg.services.units import unit_by_code

T = TypeVar("T")
TOKEN_BYTES = 24  # 192 random bits: secrets.token_urlsafe, 32 characters in a link


def stored(ctx: Context, model: type[T], key: str | None) -> T:
    """A row a foreign key names (NotFoundError if the database lost it)."""
    found = ctx.session.get(model, key) if key is not None else None
    if found is None:
        raise NotFoundError(f"{model.__name__} {key} is missing")
    return found


def token_digest(token: str) -> str:
    """What the register keeps of a link's token (a random 192-bit token needs no slow hash)."""
    return sha256_hex(token.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class RoundView:
    id: str
    unit: str
    unit_name: str
    purposes: list[str]  # codes
    ends_on: date
    created_at: datetime
    closed: bool


def purpose_ids_of(round_: Round) -> list[str]:
    found: list[str] = json.loads(round_.purpose_ids)
    return found


def round_by_id(ctx: Context, key: str) -> Round:
    return by_id(ctx, Round, key, what="round")


def _view(ctx: Context, round_: Round) -> RoundView:
    unit = stored(ctx, Unit, round_.unit_id)
    codes = dict(ctx.session.execute(select(Purpose.id, Purpose.code)).all())
    return RoundView(
        round_.id,
        unit.code,
        unit.name,
        [codes[p] for p in purpose_ids_of(round_)],
        round_.ends_on,
        round_.created_at,
        round_.closed_at is not None,
    )


def unit_and_below(ctx: Context, unit_id: str) -> list[str]:
    children: dict[str, list[str]] = {}
    for uid, parent in ctx.session.execute(select(Unit.id, Unit.parent_id)):
        if parent is not None:
            children.setdefault(parent, []).append(uid)
    found, todo = [], [unit_id]
    while todo:
        uid = todo.pop()
        if uid not in found:
            found.append(uid)
            todo += children.get(uid, [])
    return found


def round_children(ctx: Context, round_: Round) -> list[Person]:
    """The children of the round's unit and its sub-units who have not left, in ID order."""
    return list(
        ctx.session.scalars(
            select(Person)
            .where(
                Person.unit_id.in_(unit_and_below(ctx, round_.unit_id)),
                Person.kind == PersonKind.CHILD.value,
                Person.left_at.is_(None),
            )
            .order_by(Person.id)
        )
    )


def recipients_of(ctx: Context, child: Person) -> list[str]:
    """Who answers for the child today: the pupil from 15, otherwise each guardian with parental
    responsibility (DOMAIN.md R3, R4)."""
    return recipients_by_child(ctx, [child])[child.id]


def start_round(
    ctx: Context, *, unit: str, purposes: list[str], ends_on: date | None = None
) -> RoundView:
    """Start a round for a unit (sub-units included) and purposes; its links work through
    `ends_on` (default: the coming 31 July). A unit with no children is refused."""
    unit_row = unit_by_code(ctx, unit)
    require(ctx, "round.start", units=[unit_row.id])
    codes = list(dict.fromkeys(purposes))
    if not codes:
        raise InvalidInputError("give at least one --purpose")
    purpose_ids = sorted(purpose_by_code(ctx, code).id for code in codes)
    today = oslo_day(ctx.now)
    ends_on = ends_on or rules.next_school_year_end(today)
    if ends_on < today:
        raise InvalidInputError(f"--ends {ends_on.isoformat()} is in the past")
    round_ = Round(
        id=new_id(),
        unit_id=unit_row.id,
        purpose_ids=canonical_json(purpose_ids),
        ends_on=ends_on,
        created_at=ctx.now,
        created_by=ctx.actor,
        closed_at=None,
        closed_by=None,
    )
    if not round_children(ctx, round_):
        raise InvalidInputError(
            f"unit {unit_row.code} (and its sub-units) has no children registered: no round"
            " was started"
        )
    ctx.session.add(round_)
    ctx.session.flush()
    audit_log.record(ctx, "round.start", {"rounds": round_})
    return _view(ctx, round_)


def open_round(ctx: Context, round_: Round) -> None:
    if round_.closed_at is not None:
        raise InvalidInputError(f"round {round_.id} is closed")
    if round_.ends_on < oslo_day(ctx.now):
        raise InvalidInputError(f"round {round_.id} ended on {round_.ends_on.isoformat()}")


@dataclass(frozen=True)
class IssuedLink:
    """A new personal link, with what its letter says: the token exists only here."""

    link_id: str
    token: str
    child_id: str
    child_first_name: str
    recipient_id: str
    recipient_name: str
    self_answer: bool


@dataclass(frozen=True)
class Issued:
    round: RoundView
    purposes: list[tuple[str, str]]  # (code, title)
    links: list[IssuedLink]


def issue_links(
    ctx: Context,
    *,
    round_id: str,
    unanswered_only: bool = False,
    recipients: list[str] | None = None,
) -> Issued:
    """A new link for each recipient of each child of the round (or only those who have not
    answered: a reminder; or only the people in `recipients`); each replaces (revokes) the
    recipient's earlier link for that child. The tokens are returned, never stored."""
    round_ = round_by_id(ctx, round_id)
    require(ctx, "round.link", units=[round_.unit_id])
    open_round(ctx, round_)
    wanted = set(recipients) if recipients is not None else None
    live = _live_links(ctx, round_.id)
    issued = []
    for child in round_children(ctx, round_):
        child_name = rules.first_name(decrypt_name(ctx, child))
        for rid in recipients_of(ctx, child):
            earlier = live.get((child.id, rid))
            if unanswered_only and earlier is not None and earlier.answered_at is not None:
                continue
            if wanted is not None and rid not in wanted:
                continue
            if earlier is not None:
                revoke(ctx, earlier)
            issued.append(issue_one(ctx, round_, child, child_name, rid))
    view = _view(ctx, round_)
    titles = dict(ctx.session.execute(select(Purpose.code, Purpose.title)).all())
    record_query(
        ctx,
        "round_letters",
        ids={"round": round_.id, "links": [link.link_id for link in issued]},
    )
    return Issued(view, [(c, titles[c]) for c in view.purposes], issued)


def issue_one(ctx: Context, round_: Round, child: Person, child_name: str, rid: str) -> IssuedLink:
    """One new link (its round.link event); the token is returned, never stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = RoundLink(
        id=new_id(),
        round_id=round_.id,
        child_id=child.id,
        recipient_id=rid,
        token_sha256=token_digest(token),
        issued_at=ctx.now,
        issued_by=ctx.actor,
        revoked_at=None,
        revoked_by=None,
        answered_at=None,
    )
    ctx.session.add(link)
    ctx.session.flush()
    audit_log.record(ctx, "round.link", {"round_links": link})
    recipient = stored(ctx, Person, rid)
    return IssuedLink(
        link.id,
        token,
        child.id,
        child_name,
        rid,
        decrypt_name(ctx, recipient),
        rid == child.id,
    )


def _live_links(ctx: Context, round_id: str) -> dict[tuple[str, str], RoundLink]:
    rows = ctx.session.scalars(
        select(RoundLink)
        .where(RoundLink.round_id == round_id, RoundLink.revoked_at.is_(None))
        .order_by(RoundLink.issued_at, RoundLink.id)
    )
    return {(link.child_id, link.recipient_id): link for link in rows}


def revoke(ctx: Context, link: RoundLink) -> None:
    link.revoked_at, link.revoked_by = ctx.now, ctx.actor
    ctx.session.flush()
    audit_log.record(ctx, "round.revoke", {"round_links": link})


def revoke_link(ctx: Context, *, link_id: str) -> str:
    """Revoke one personal link: it answers "revoked" from now on."""
    link = by_id(ctx, RoundLink, link_id, what="link")
    round_ = stored(ctx, Round, link.round_id)
    require(ctx, "round.revoke", units=[round_.unit_id])
    if link.revoked_at is not None:
        raise InvalidInputError(f"link {link.id} is already revoked")
    revoke(ctx, link)
    return link.id


def close_round(ctx: Context, *, round_id: str) -> RoundView:
    """Close a round: none of its links works any more."""
    round_ = round_by_id(ctx, round_id)
    require(ctx, "round.close", units=[round_.unit_id])
    if round_.closed_at is not None:
        raise InvalidInputError(f"round {round_.id} is already closed")
    round_.closed_at, round_.closed_by = ctx.now, ctx.actor
    ctx.session.flush()
    audit_log.record(ctx, "round.close", {"rounds": round_})
    return _view(ctx, round_)


def list_rounds(ctx: Context) -> list[RoundView]:
    require(ctx, "read.register")
    rows = ctx.session.scalars(select(Round).order_by(Round.created_at, Round.id)).all()
    return [_view(ctx, r) for r in rows]


@dataclass(frozen=True)
class ChildStatus:
    child_id: str
    name: str
    unit: str
    state: str  # answered, partly answered, not answered
    recipients: int
    answered: int


@dataclass(frozen=True)
class RoundStatus:
    round: RoundView
    children: list[ChildStatus]

    def count(self, state: str) -> int:
        return sum(1 for c in self.children if c.state == state)


def round_status(ctx: Context, *, round_id: str) -> RoundStatus:
    """Each child of the round: answered (every recipient), partly answered (one of two
    guardians), not answered. Recorded as an `audit.query` (view `round_status`)."""
    require(ctx, "read.register")
    round_ = round_by_id(ctx, round_id)
    require_in_scope(ctx, round_.unit_id)
    units = dict(ctx.session.execute(select(Unit.id, Unit.code)).all())
    children = round_children(ctx, round_)
    progress = child_progress(ctx, round_.id, children)
    rows = [
        ChildStatus(
            child.id,
            decrypt_name(ctx, child),
            units.get(child.unit_id or "", ""),
            progress[child.id].state,
            progress[child.id].recipients,
            progress[child.id].answered,
        )
        for child in children
    ]
    rows.sort(key=lambda c: (c.name.casefold(), c.child_id))
    record_query(
        ctx, "round_status", ids={"round": round_.id, "subjects": [c.child_id for c in rows]}
    )
    return RoundStatus(_view(ctx, round_), rows)


# --- renewal ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ending:
    """A grant in force that ends before the report's date."""

    consent_id: str
    subject_id: str
    purpose: str
    consenter_id: str
    valid_until: date


def renewal_report(
    ctx: Context, *, unit: str | None = None, before: date | None = None
) -> tuple[date, list[Ending]]:
    """Grants still in force today (not withdrawn) whose last valid day is `before` or earlier
    (default: the coming 31 July), of the children of a unit and its sub-units (or of every
    unit). Returns the date used and the grants, by subject and purpose."""
    require(ctx, "read.register")
    today = oslo_day(ctx.now)
    before = before or rules.next_school_year_end(today)
    query = (
        select(ConsentEvent, Purpose.code)
        .join(Purpose, Purpose.id == ConsentEvent.purpose_id)
        .join(Person, Person.id == ConsentEvent.subject_id)
        .where(
            ConsentEvent.kind == EventKind.GRANT.value,
            ConsentEvent.valid_until >= today,
            ConsentEvent.valid_until <= before,
            Person.left_at.is_(None),
            ConsentEvent.id.not_in(
                select(ConsentEvent.withdraws_id).where(ConsentEvent.withdraws_id.is_not(None))
            ),
        )
    )
    if unit is not None:
        unit_row = unit_by_code(ctx, unit)
        require_in_scope(ctx, unit_row.id)
        query = query.where(Person.unit_id.in_(unit_and_below(ctx, unit_row.id)))
    elif (scope := registrar_scope(ctx)) is not None:
        query = query.where(Person.unit_id.in_(scope))
    found = [
        Ending(e.id, e.subject_id, code, e.consenter_id, e.valid_until)
        for e, code in ctx.session.execute(query).all()
        if e.valid_until is not None
    ]
    found.sort(key=lambda e: (e.subject_id, e.purpose, e.consenter_id))
    return before, found


def start_renewal(
    ctx: Context, *, unit: str, before: date | None = None, ends_on: date | None = None
) -> RoundView:
    """The renewal round in one step: a round for the unit and every purpose with a consent
    that ends before `before` (renewal_report)."""
    _, ending = renewal_report(ctx, unit=unit, before=before)
    if not ending:
        raise NotFoundError(f"no consent of unit {unit} ends before the date: nothing to renew")
    return start_round(
        ctx, unit=unit, purposes=sorted({e.purpose for e in ending}), ends_on=ends_on
    )


@dataclass(frozen=True)
class RoundsPage:
    """The staff's rounds page: the rounds, and what a new one may be started for."""

    rounds: list[RoundView]
    units: list[tuple[str, str]]  # (code, name)
    purposes: list[tuple[str, str]]  # (code, title)
    default_until: date
    ending: int  # grants in force that end by default_until (the renewal report's count)


def rounds_page(ctx: Context) -> RoundsPage:
    require(ctx, "read.register")
    units = ctx.session.execute(select(Unit.code, Unit.name).order_by(Unit.code)).all()
    purposes = ctx.session.execute(select(Purpose.code, Purpose.title).order_by(Purpose.code)).all()
    until, ending = renewal_report(ctx)
    return RoundsPage(
        list_rounds(ctx),
        [(c, n) for c, n in units],
        [(c, t) for c, t in purposes],
        until,
        len(ending),
    )
