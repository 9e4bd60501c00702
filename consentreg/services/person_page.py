"""One person on one screen (`person show`): who they are, their guardians and children by
name, and where they may be published as of an instant, each purpose allowed or each reason why
not, with who decided what."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select

from consentreg.db.models import Guardianship, Person
from consentreg.services.audit.standing import Standing, register_at, standings
from consentreg.services.guardianships import guardians_at
from consentreg.services.people import GuardianLink, PersonView, decrypt_name, show_person
from consentreg.services.unit_of_work import Context


@dataclass(frozen=True)
class PersonPage:
    person: PersonView
    at: datetime
    standing: list[Standing]  # one per purpose, by purpose code
    names: dict[str, str]  # guardians', children's and consenters' names by ID


def person_page(ctx: Context, key: str, *, at: datetime | None = None) -> PersonPage:
    """The person (by ID, prefix or `ref:`), and their standing per purpose at `at` (default
    now) as the gate judges a photo showing only them."""
    person = show_person(ctx, key)  # checks the role and, for a registrar, the unit
    when = at or ctx.now
    found = register_at(ctx, when, ids=(person.id, person.id + "0"))  # exactly this ID
    standing = sorted(
        (s for s in standings(found) if s.subject_id == person.id), key=lambda s: s.purpose
    )
    # guardians and children at the instant, read as the standings (and the gate) read them
    children = guardians_at(ctx, when, Guardianship.guardian_id == person.id)
    person = replace(
        person,
        guardians=[GuardianLink(*g) for g in found.guardians.get(person.id, ())],
        children=[GuardianLink(c, g.parental_responsibility) for c, (g,) in children.items()],
    )
    linked = {g.person_id for g in person.guardians} | {c.person_id for c in person.children}
    linked |= {d.consenter_id for s in standing for d in s.decisions}
    linked.discard(person.id)
    names = {person.id: person.name}
    if linked:
        for row in ctx.session.scalars(select(Person).where(Person.id.in_(sorted(linked)))):
            names[row.id] = decrypt_name(ctx, row)
    return PersonPage(person, when, standing, names)
