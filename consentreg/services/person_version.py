"""A person's version, for forms rendered from it (the web application's person page, its
correction and consent forms): a short digest of everything about the person a form acts on —
the stored values (their ciphertexts), unit, restriction, leaving, guardians and the latest
consent decision about them. A form carries the version it was rendered with; a change posted
with another one was made on a stale form and is refused (StaleFormError, nothing written), so
one member of staff never overwrites what another changed in the meantime without seeing it.

`check_version` locks the person's row first (PostgreSQL; SQLite writers are serialised anyway),
so the version cannot move between the check and the change.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from consentreg.db.models import ConsentEvent, Guardianship, Person
from consentreg.errors import StaleFormError
from consentreg.i18n import msg
from consentreg.services.unit_of_work import Context

VERSION_HEX = 16


def _digest(ctx: Context, person: Person) -> str:
    links = ctx.session.execute(
        select(Guardianship.id, Guardianship.removed_at)
        .where(Guardianship.child_id == person.id)
        .order_by(Guardianship.id)
    ).all()
    latest = ctx.session.scalar(
        select(func.max(ConsentEvent.seq)).where(ConsentEvent.subject_id == person.id)
    )
    h = hashlib.sha256()
    for part in (person.name_ct, person.born_ct, person.ref_ct or b""):
        h.update(len(part).to_bytes(4, "big") + part)
    facts = (person.unit_id, person.protected, person.left_at, links, latest)
    h.update(repr(facts).encode())
    return h.hexdigest()[:VERSION_HEX]


def person_version(ctx: Context, person_id: str) -> str:
    """The person's version now (an ID the caller has already resolved and may read)."""
    person = ctx.session.get(Person, person_id)
    if person is None:  # resolved in this same transaction: never happens
        raise StaleFormError(
            msg("person {person_id} is no longer in the register", person_id=person_id)
        )
    return _digest(ctx, person)


def check_version(ctx: Context, person: Person, version: str) -> None:
    """Refuse a change made on a form rendered from another version of the person."""
    ctx.session.execute(select(Person.id).where(Person.id == person.id).with_for_update())
    if version.strip() != _digest(ctx, person):
        raise StaleFormError(
            msg(
                "person {person_id} was changed by someone else after the form was shown: nothing was written; reload the page and try again",
                person_id=person.id,
            )
        )
