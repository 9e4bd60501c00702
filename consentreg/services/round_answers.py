"""Consent rounds (issue #21), the guardian's side: the page a personal link opens, and the
answer given through it. No login: the link's token is the only key, and it opens one child
(first name only) and one round's purposes. An answer is recorded through the consent service
as decisions with method `digital`, whose evidence is the submission itself (the link, the
instant, each answer with the notice version and its SHA-256), stored like a scan.

Unknown tokens are counted per client address (keyed digests in `login_failures`, as failed
logins are): too many within the window and the address is refused before any lookup."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import delete, func, select

from consentreg.crypto import sha256_hex
from consentreg.db.models import (
    ConsentEvent,
    LoginFailure,
    NoticeVersion,
    Person,
    Purpose,
    Round,
    RoundLink,
)
from consentreg.domain import rounds as rules
from consentreg.domain.audit_chain import canonical_json
from consentreg.domain.calendar import oslo_day
from consentreg.domain.model import EventKind
from consentreg.errors import (
    InvalidInputError,
    LinkChildLeftError,
    LinkExpiredError,
    LinkInvalidError,
    LinkResponsibilityEndedError,
    LinkRevokedError,
    NoticeRevisedError,
    StaleFormError,
)
from consentreg.services.access import act_through_link, require
from consentreg.services.accounts import THROTTLE_WINDOW
from consentreg.services.audit import log as audit_log
from consentreg.services.consents import record_decisions, withdraw
from consentreg.services.evidence import read_evidence
from consentreg.services.people import decrypt_name
from consentreg.services.purposes import current_notice
from consentreg.services.rounds import (
    issue_one,
    purpose_ids_of,
    recipients_of,
    revoke,
    round_children,
    stored,
    token_digest,
)
from consentreg.services.unit_of_work import Context, new_id

MAX_TOKEN = 64
INVALID_PER_ADDRESS = 20


@dataclass(frozen=True)
class Question:
    """One purpose as the guardian's page shows it."""

    code: str
    title: str
    notice: str
    version: int
    sha256: str
    answer: bool | None  # the recipient's answer in force now; None: none yet


@dataclass(frozen=True)
class LinkPage:
    link_id: str
    first_name: str
    self_answer: bool  # the pupil answers for themself (15 and over)
    ends_on: date
    questions: list[Question]
    state: str  # changes with every decision recorded: a form posted again is refused
    answered_at: datetime | None


@dataclass(frozen=True)
class Receipt:
    page: LinkPage
    at: datetime
    changed: list[tuple[str, str]]  # (purpose code, grant / refusal / withdrawal)
    evidence_sha256: str | None


def _usable(ctx: Context, token: str) -> tuple[RoundLink, Round, Person]:
    """The link a token opens, if it still works; every unknown token gets the same error."""
    if not token or len(token) > MAX_TOKEN or not token.isascii():
        raise LinkInvalidError("unknown link")
    link = ctx.session.scalar(
        select(RoundLink).where(RoundLink.token_sha256 == token_digest(token))
    )
    if link is None:
        raise LinkInvalidError("unknown link")
    round_, child = stored(ctx, Round, link.round_id), stored(ctx, Person, link.child_id)
    if link.revoked_at is not None:
        raise LinkRevokedError(f"link {link.id} was revoked or replaced by a newer letter")
    if round_.closed_at is not None or round_.ends_on < oslo_day(ctx.now):
        raise LinkExpiredError(f"link {link.id}: its round {round_.id} has ended")
    if child.left_at is not None or child.id not in {c.id for c in round_children(ctx, round_)}:
        raise LinkChildLeftError(f"link {link.id}: child {child.id} has left the unit")
    if link.recipient_id not in recipients_of(ctx, child):
        raise LinkResponsibilityEndedError(
            f"link {link.id}: {link.recipient_id} no longer answers for {child.id}"
        )
    return link, round_, child


def _latest(ctx: Context, link: RoundLink, purpose_id: str) -> rules.Latest | None:
    event = ctx.session.scalar(
        select(ConsentEvent)
        .where(
            ConsentEvent.subject_id == link.child_id,
            ConsentEvent.purpose_id == purpose_id,
            ConsentEvent.consenter_id == link.recipient_id,
        )
        .order_by(ConsentEvent.seq.desc())
        .limit(1)
    )
    if event is None:
        return None
    return rules.Latest(EventKind(event.kind), event.id, event.notice_version, event.valid_until)


def _page(ctx: Context, link: RoundLink, round_: Round, child: Person) -> LinkPage:
    today, questions, seen = oslo_day(ctx.now), [], []
    for pid in purpose_ids_of(round_):
        purpose = stored(ctx, Purpose, pid)
        notice: NoticeVersion = current_notice(ctx, pid, at=ctx.now)
        latest = _latest(ctx, link, pid)
        seen.append([pid, latest.id if latest else None])
        answer = rules.current_answer(latest, today=today, notice_version=notice.version)
        questions.append(
            Question(
                purpose.code, purpose.title, notice.text, notice.version, notice.sha256, answer
            )
        )
    questions.sort(key=lambda q: q.code)
    state = sha256_hex(canonical_json([link.id, sorted(seen, key=str)]).encode())[:32]
    return LinkPage(
        link.id,
        rules.first_name(decrypt_name(ctx, child)),
        link.recipient_id == child.id,
        round_.ends_on,
        questions,
        state,
        link.answered_at,
    )


def open_link(ctx: Context, *, token: str) -> LinkPage:
    """What the guardian's page shows: the child's first name, each purpose with its full
    notice text and the recipient's answer in force. Writes nothing."""
    link, round_, child = _usable(ctx, token)
    return _page(ctx, link, round_, child)


def answer_link(
    ctx: Context,
    *,
    token: str,
    answers: Mapping[str, str],
    versions: Mapping[str, str],
    state: str,
) -> Receipt:
    """Record a guardian's answers (each purpose "yes" or "no") through their link, all or
    nothing. Refused, with nothing written: a purpose whose notice changed since the page was
    shown (NoticeRevisedError: the page shows the new text), a form posted again after an
    answer was recorded (StaleFormError), a purpose left unanswered (InvalidInputError)."""
    link, round_, child = _usable(ctx, token)
    act_through_link(ctx, link_id=link.id, unit_id=child.unit_id)
    require(ctx, "round.answer", units=[child.unit_id])
    page = _page(ctx, link, round_, child)
    revised = [q.code for q in page.questions if versions.get(q.code) != str(q.version)]
    if revised:
        raise NoticeRevisedError(
            f"the notice of {', '.join(revised)} was revised: read it and answer again"
        )
    if state != page.state:
        raise StaleFormError(f"link {link.id}: this form was answered already")
    wanted = _wanted(page, answers)
    by_code = {q.code: q for q in page.questions}
    ids = {ctx.session.scalar(select(Purpose.id).where(Purpose.code == c)): c for c in wanted}
    found = rules.changes(
        {pid: wanted[code] for pid, code in ids.items() if pid is not None},
        {pid: _latest(ctx, link, pid) for pid in ids if pid is not None},
        today=oslo_day(ctx.now),
        versions={pid: by_code[code].version for pid, code in ids.items() if pid is not None},
    )
    submission = _submission(ctx, link, page, wanted)
    changed = [(ids[c.purpose_id], c.kind.value) for c in found]
    digest = _record(ctx, link, found, ids, submission) if found else None
    link.answered_at = ctx.now
    ctx.session.flush()
    audit_log.record(ctx, "round.answer", {"round_links": link})
    return Receipt(_page(ctx, link, round_, child), ctx.now, changed, digest)


def replace_link(ctx: Context, *, token: str) -> str:
    """A guardian's own request for a new link (one they fear someone else has seen): the link
    is revoked and a new one for the same child and recipient is returned (its token only)."""
    link, round_, child = _usable(ctx, token)
    act_through_link(ctx, link_id=link.id, unit_id=child.unit_id)
    require(ctx, "round.link", units=[child.unit_id])
    revoke(ctx, link)
    fresh = issue_one(
        ctx, round_, child, rules.first_name(decrypt_name(ctx, child)), link.recipient_id
    )
    return fresh.token


def _wanted(page: LinkPage, answers: Mapping[str, str]) -> dict[str, bool]:
    wanted = {}
    for q in page.questions:
        given = answers.get(q.code)
        if given not in ("yes", "no"):
            raise InvalidInputError(f"answer yes or no for {q.code}")
        wanted[q.code] = given == "yes"
    return wanted


def _submission(ctx: Context, link: RoundLink, page: LinkPage, wanted: dict[str, bool]) -> bytes:
    """The evidence of a digital answer: what was shown and answered, through which link, when."""
    document = {
        "format": "consentreg/digital-answer/v1",
        "link": link.id,
        "round": link.round_id,
        "child": link.child_id,
        "recipient": link.recipient_id,
        "at": ctx.now.isoformat(),
        "answers": [
            {
                "purpose": q.code,
                "answer": "yes" if wanted[q.code] else "no",
                "notice_version": q.version,
                "notice_sha256": q.sha256,
            }
            for q in page.questions
        ],
    }
    return json.dumps(document, indent=1, sort_keys=True).encode()


def _record(
    ctx: Context,
    link: RoundLink,
    found: list[rules.Change],
    codes: dict[str | None, str],
    submission: bytes,
) -> str:
    """Write the submission to a private file, check it as evidence, and record every change
    with it in this transaction; returns its SHA-256."""
    with tempfile.TemporaryDirectory(prefix="consentreg-answer-") as folder:
        path = Path(folder) / f"digital-answer-{link.id}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(submission)
        evidence = read_evidence(path)
        for kind in (EventKind.GRANT, EventKind.REFUSAL):
            purposes = [codes[c.purpose_id] for c in found if c.kind is kind]
            if purposes:
                record_decisions(
                    ctx,
                    subject=link.child_id,
                    purposes=purposes,
                    consenters=[link.recipient_id],
                    kind=kind,
                    method="digital",
                    evidence=evidence,
                )
        for change in found:
            if change.kind is EventKind.WITHDRAWAL and change.withdraws is not None:
                withdraw(ctx, consent_id=change.withdraws, method="digital", evidence=evidence)
        return evidence.sha256


# --- unknown tokens, counted per address --------------------------------------------------------


def _address_key(ctx: Context, address: str) -> str:
    return ctx.keys.blind_index(address, index="round_links.address")


def link_throttled(ctx: Context, *, address: str) -> bool:
    """Whether this client address tried too many unknown links within the window."""
    count = ctx.session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(
            LoginFailure.address_key == _address_key(ctx, address),
            LoginFailure.at > ctx.now - THROTTLE_WINDOW,
        )
    )
    return (count or 0) >= INVALID_PER_ADDRESS


def note_invalid_link(ctx: Context, *, address: str) -> None:
    """Count an unknown token against the client's address (not register data: not logged)."""
    ctx.session.execute(delete(LoginFailure).where(LoginFailure.at <= ctx.now - THROTTLE_WINDOW))
    ctx.session.add(
        LoginFailure(
            id=new_id(),
            login_key=ctx.keys.blind_index("round link", index="round_links.token"),
            address_key=_address_key(ctx, address),
            at=ctx.now,
        )
    )
    ctx.session.flush()
