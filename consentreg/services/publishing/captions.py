"""Who a caption names in full (R11), found in the whole register through the caption index.

The caption's candidate words (each run of letters, runs joined, their first and last pieces) are
looked up in `person_caption_keys` in one query per few thousand keys; a person is a candidate
when a given-name key and a surname key of theirs are both hit. Only the candidates (and any
person whose index is not built yet) are decrypted, and each is confirmed on the decrypted name
(consentreg.domain.caption), so that a collision of the 64-bit index never refuses a caption.
The rules then decide who of them counts: a minor at the publication instant, or anyone with a
protected identity.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from consentreg.db.models import Person, PersonCaptionKey
from consentreg.domain.caption import GIVEN, SURNAME, Caption, NamedPerson, NameMatcher
from consentreg.services.audit.standing import birth_day
from consentreg.services.caption_index import indexer, unindexed_ids
from consentreg.services.people import restricted_at
from consentreg.services.unit_of_work import Context

_CHUNK = 5000


def named_in_caption(ctx: Context, caption: str, *, at: datetime) -> list[NamedPerson]:
    """Every registered person whose given name and surname are both in `caption`, by id,
    with their birth date and whether their identity is protected (now or at `at`)."""
    read = Caption(caption)
    candidates = _candidates(ctx, read)
    candidates |= unindexed_ids(ctx)
    if not candidates:
        return []
    named: list[tuple[str, bytes, bool]] = []
    decrypt = ctx.keys.field_decryptor(table="people", column="name")
    verdicts: dict[str, bool] = {}  # by name: a common name is read once

    def names(name: str) -> bool:
        found = verdicts.get(name)
        if found is None:
            found = verdicts[name] = read.names(NameMatcher(name))
        return found

    ids = sorted(candidates)
    for i in range(0, len(ids), _CHUNK):
        rows = ctx.session.execute(
            select(Person.id, Person.name_ct, Person.born_ct, Person.protected).where(
                Person.id.in_(ids[i : i + _CHUNK])
            )
        )
        named += [
            (pid, born_ct, protected)
            for pid, name_ct, born_ct, protected in rows
            if names(decrypt(name_ct, pid))
        ]
    if not named:
        return []
    restricted = restricted_at(ctx, at, ids=[pid for pid, _, _ in named])
    born = ctx.keys.field_decryptor(table="people", column="born")
    return [
        NamedPerson(pid, birth_day(born(born_ct, pid)), protected or pid in restricted)
        for pid, born_ct, protected in sorted(named)
    ]


def _candidates(ctx: Context, read: Caption) -> set[str]:
    """People with both a given-name key and a surname key among the caption's keys. The hits
    are read from the lookup index and grouped here: a GROUP BY in the database tempts both
    engines' planners into reading the whole table in person order."""
    index = indexer(ctx)
    keys = sorted({part + index(skel) for skel in read.lookup_keys() for part in (GIVEN, SURNAME)})
    given: set[str] = set()
    surname: set[str] = set()
    for i in range(0, len(keys), _CHUNK):
        rows = ctx.session.execute(
            select(PersonCaptionKey.person_id, PersonCaptionKey.caption_key).where(
                PersonCaptionKey.caption_key.in_(keys[i : i + _CHUNK])
            )
        )
        for pid, key in rows:
            (given if key[0] == GIVEN else surname).add(pid)
    return given & surname
