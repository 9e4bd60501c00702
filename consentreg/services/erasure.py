"""`person erase`: erasure that keeps the proof (GDPR Art 17, docs/architecture.md "Erasure").

The person's data key is destroyed (one `person.erase` event empties their `person_keys` row):
their name, birth date, reference, corrected values, reasons and evidence stay in the register
as they were, so the hash chain and `audit verify` still pass, but nothing can decrypt them any
more, in this register or in a backup restored with the current key file. The blind indexes of
their name (its words and the caption index) and of their reference are removed with the key.
Every release of the person not yet taken down is returned: the take-down list to act on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select

from consentreg.db.models import PersonCaptionKey, PersonKey, PersonNameToken
from consentreg.errors import ConsentRegError, PersonErasedError, PersonNotErasableError
from consentreg.services.access import require
from consentreg.services.audit import log as audit_log
from consentreg.services.backup.key_file import write_key_file
from consentreg.services.people import resolve_person
from consentreg.services.publishing.takedown import TakedownItem, takedown_for_person
from consentreg.services.unit_of_work import Context, Register


@dataclass(frozen=True)
class Erasure:
    person_id: str
    takedown: list[TakedownItem]
    key_file: Path | None = None  # the person keys file rewritten without the person's key
    key_file_problem: str | None = None  # why it could not be rewritten (the erasure holds)


def erase(register: Register, key: str, *, now: datetime | None = None) -> Erasure:
    """`person erase`: erase the person (one transaction, committed), then rewrite the person
    keys file beside the backups without their key, if there is one at the settings' place, so
    that no backup taken before can be read for them. A key file that cannot be rewritten is
    reported, not an error: the erasure holds and the next backup rewrites it."""
    with register.work(now=now) as ctx:
        done = erase_person(ctx, key)
    path = register.settings.backup_keys_file
    if not path.exists():
        return done
    try:
        with register.work(writer=False, now=now) as ctx:
            write_key_file(ctx, path)
    except ConsentRegError as exc:
        return replace(done, key_file_problem=str(exc))
    return replace(done, key_file=path)


def erase_person(ctx: Context, key: str) -> Erasure:
    """Erase a person (by ID; a `ref:` look-up works only before): refused for a person erased
    already (PersonErasedError) and for one registered before per-person keys, whose data is
    under the register's key (PersonNotErasableError). Admins only."""
    require(ctx, "person.erase")
    person = resolve_person(ctx, key)
    state = ctx.keys.person_key_state(person.id)
    if state == "erased":
        raise PersonErasedError(f"person {person.id} is erased already")
    if state == "register":
        raise PersonNotErasableError(
            f"person {person.id} was registered before per-person keys (schema 0016): their data"
            " is under the register's key and cannot be erased by destroying a key"
        )
    erase_key(ctx, person.id)
    return Erasure(person.id, takedown_for_person(ctx, person_id=person.id))


def erase_key(ctx: Context, person_id: str) -> None:
    """Destroy a person's data key and their blind indexes, with the `person.erase` event
    (also used by `restore` for a person whose key the key file no longer holds)."""
    row = ctx.session.get(PersonKey, person_id, with_for_update=True)
    if row is None or row.erased_at is not None:
        raise PersonErasedError(f"person {person_id} has no data key to erase")
    tokens = list(
        ctx.session.scalars(
            select(PersonNameToken.token_bidx)
            .where(PersonNameToken.person_id == person_id)
            .order_by(PersonNameToken.token_bidx)
        )
    )
    caption = list(
        ctx.session.scalars(
            select(PersonCaptionKey.caption_key)
            .where(PersonCaptionKey.person_id == person_id)
            .order_by(PersonCaptionKey.caption_key)
        )
    )
    ctx.session.execute(delete(PersonNameToken).where(PersonNameToken.person_id == person_id))
    ctx.session.execute(delete(PersonCaptionKey).where(PersonCaptionKey.person_id == person_id))
    person = resolve_person(ctx, person_id)
    person.ref_bidx = None
    row.wrapped_key, row.erased_at, row.erased_by = None, ctx.now, ctx.actor
    ctx.session.flush()
    if ctx.keys.persons is not None:
        ctx.keys.persons.forget(person_id)  # in this unit of work too
    audit_log.record(
        ctx,
        "person.erase",
        {
            "person_keys": row,
            "people": {"id": person_id, "ref_bidx": None},
            "old_name_tokens": [{"person_id": person_id, "token_bidx": t} for t in tokens],
            "old_caption_keys": [{"person_id": person_id, "caption_key": k} for k in caption],
        },
    )
