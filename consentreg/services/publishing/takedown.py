"""The take-down list: releases still out there whose subject has since withdrawn or refused,
or was erased, and the record that a copy has been taken down (docs/rules.md R14)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select

from consentreg.db.models import (
    ConsentEvent,
    PersonKey,
    Publication,
    PublicationConsent,
    PublicationSubject,
    Purpose,
)
from consentreg.domain import text
from consentreg.errors import InvalidInputError
from consentreg.i18n import msg
from consentreg.services.access import require
from consentreg.services.audit import log as audit_log
from consentreg.services.lookup import by_id
from consentreg.services.publishing.gate import FAILED, RELEASED
from consentreg.services.purposes import purpose_by_code
from consentreg.services.unit_of_work import Context


@dataclass(frozen=True)
class TakedownItem:
    publication_id: str
    purpose: str
    photo_id: str | None
    output_name: str | None
    output_sha256: str | None
    released_at: datetime
    subject_ids: list[str]


def _takedown_items(ctx: Context, query: Select[Publication, str]) -> list[TakedownItem]:
    items = []
    for pub, code in ctx.session.execute(query).all():
        subjects = list(
            ctx.session.scalars(
                select(PublicationSubject.person_id)
                .where(PublicationSubject.publication_id == pub.id)
                .order_by(PublicationSubject.person_id)
            )
        )
        items.append(
            TakedownItem(
                pub.id,
                code,
                pub.photo_id,
                pub.output_name,
                pub.output_sha256,
                pub.decided_at,
                subjects,
            )
        )
    return items


def _open_releases() -> Select[Publication, str]:
    return (
        select(Publication, Purpose.code)
        .join(Purpose, Purpose.id == Publication.purpose_id)
        .where(
            Publication.decision == RELEASED,
            Publication.taken_down_at.is_(None),
            # a release whose file never arrived is not out there: nothing to take down
            or_(Publication.delivery.is_(None), Publication.delivery != FAILED),
        )
    )


def takedown_for_consent(ctx: Context, *, consent_id: str) -> list[TakedownItem]:
    """Every release of that consent's purpose that relied on its subject, not yet taken down."""
    grant = by_id(ctx, ConsentEvent, consent_id, what="consent")
    query = (
        _open_releases()
        .where(
            Publication.purpose_id == grant.purpose_id,
            Publication.id.in_(
                select(PublicationSubject.publication_id).where(
                    PublicationSubject.person_id == grant.subject_id
                )
            ),
        )
        .order_by(Publication.decided_at, Publication.id)
    )
    return _takedown_items(ctx, query)


def takedown_for_person(ctx: Context, *, person_id: str) -> list[TakedownItem]:
    """Every release of the person, for any purpose, not yet taken down (`person erase`)."""
    query = (
        _open_releases()
        .where(
            Publication.id.in_(
                select(PublicationSubject.publication_id).where(
                    PublicationSubject.person_id == person_id
                )
            )
        )
        .order_by(Publication.decided_at, Publication.id)
    )
    return _takedown_items(ctx, query)


def takedown_list(ctx: Context, *, purpose: str | None = None) -> list[TakedownItem]:
    """Releases not yet taken down whose subject has since withdrawn or refused for that purpose
    (or whose relied-on grant was withdrawn, whenever that takes effect)."""
    require(ctx, "takedown.list")
    later_no = select(ConsentEvent.id).where(
        ConsentEvent.kind.in_(("withdrawal", "refusal")),
        ConsentEvent.purpose_id == Publication.purpose_id,
        ConsentEvent.subject_id == PublicationSubject.person_id,
        or_(
            ConsentEvent.recorded_at >= Publication.decided_at,
            ConsentEvent.withdraws_id.in_(
                select(PublicationConsent.consent_event_id).where(
                    PublicationConsent.publication_id == Publication.id
                )
            ),
        ),
    )
    # an erased subject's releases stay on the list until taken down (`person erase`)
    erased = select(PersonKey.person_id).where(
        PersonKey.person_id == PublicationSubject.person_id, PersonKey.erased_at.is_not(None)
    )
    affected = select(PublicationSubject.publication_id).where(
        PublicationSubject.publication_id == Publication.id,
        or_(later_no.exists(), erased.exists()),
    )
    query = _open_releases().where(Publication.id.in_(affected))
    if purpose:
        query = query.where(Publication.purpose_id == purpose_by_code(ctx, purpose).id)
    return _takedown_items(ctx, query.order_by(Publication.decided_at, Publication.id))


def takedown_done(ctx: Context, *, publication_id: str, note: str | None = None) -> None:
    """Record that a released copy has been taken down."""
    require(ctx, "publication.takedown")
    if note is not None:
        text.check_text(note, field="--note", limit=text.NOTE)
    pub = by_id(ctx, Publication, publication_id, what="publication")
    if pub.decision != RELEASED:
        raise InvalidInputError(
            msg("publication {pub_id} was a refusal: nothing to take down", pub_id=pub.id)
        )
    if pub.taken_down_at is not None:
        raise InvalidInputError(msg("publication {pub_id} is already taken down", pub_id=pub.id))
    pub.taken_down_at, pub.taken_down_by = ctx.now, ctx.actor
    if note and note.strip():
        pub.takedown_note_ct = ctx.keys.encrypt(
            note.strip(), table="publications", column="takedown_note", row_id=pub.id
        )
    ctx.session.flush()
    audit_log.record(ctx, "publication.takedown", {"publications": pub})
