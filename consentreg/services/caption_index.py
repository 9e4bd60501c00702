"""The caption index (R11): who a caption may name, found without decrypting the register.

Each person's name words are indexed by part (given name or surname) in every spelling the
caption check accepts (consentreg.domain.caption): one keyed blind index of the word's skeleton
per row of `person_caption_keys`, prefixed "g" or "s". `people.caption_index` is the version of
the index a person's rows were built for.

Kept in sync where names are written: `person add` and the CSV import (`stage_person`),
`person correct` (`replace_caption_keys`), each in the person's own event. For people registered
before the index (migration 0013), `build_caption_index` builds it with one `person.index`
event each; `consentreg init` and `consentreg db upgrade` run it after migrating (it needs the
key, which a migration does not have). Until it has run, the gate decrypts the people not yet
indexed (`unindexed_ids`), so that no caption is judged on an incomplete index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from consentreg.config import Settings
from consentreg.crypto import ERASED
from consentreg.db.models import Person, PersonCaptionKey
from consentreg.domain.caption import NAME_KEYS_VERSION, name_keys
from consentreg.services.access import require
from consentreg.services.row_batch import RowBatch
from consentreg.services.unit_of_work import Context, open_register

INDEX = "people.caption"
BATCH = 2000


def indexer(ctx: Context) -> Callable[[str], str]:
    """The keyed blind index of a skeleton, its key derived once per unit of work."""
    found = ctx.cache.get("caption_indexer")
    if found is None:
        found = ctx.cache["caption_indexer"] = ctx.keys.blind_indexer(index=INDEX)
    index: Callable[[str], str] = found
    return index


def caption_keys(ctx: Context, name: str) -> list[str]:
    """The caption index entries of a name: part ("g" or "s") + blind index of a skeleton."""
    index = indexer(ctx)
    return sorted({part + index(skel) for part, skel in name_keys(name)})


def _keys_of(ctx: Context, name: str) -> list[str]:
    """The caption keys of a decrypted name; none for an erased person's."""
    return [] if name == ERASED else caption_keys(ctx, name)


def key_rows(person_id: str, keys: list[str]) -> list[dict[str, str]]:
    return [{"person_id": person_id, "caption_key": key} for key in keys]


def replace_caption_keys(
    ctx: Context, person_id: str, name: str
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Index the person's (new) name: the rows removed and added, for the person's event."""
    old = set(
        ctx.session.scalars(
            select(PersonCaptionKey.caption_key).where(PersonCaptionKey.person_id == person_id)
        )
    )
    new = set(caption_keys(ctx, name))
    gone, added = sorted(old - new), sorted(new - old)
    if gone:
        ctx.session.execute(
            delete(PersonCaptionKey).where(
                PersonCaptionKey.person_id == person_id, PersonCaptionKey.caption_key.in_(gone)
            )
        )
    if added:
        ctx.session.execute(insert(PersonCaptionKey), key_rows(person_id, added))
    return key_rows(person_id, gone), key_rows(person_id, added)


def unindexed_people() -> Any:
    """The condition on `Person` of those whose caption index is missing (0) or out of date:
    one range of the index on `people.caption_index`."""
    return Person.caption_index < NAME_KEYS_VERSION


def unindexed_ids(ctx: Context) -> set[str]:
    return set(ctx.session.scalars(select(Person.id).where(unindexed_people())))


@dataclass(frozen=True)
class IndexBuilt:
    people: int  # people indexed now


def build_caption_index(settings: Settings, *, now: datetime | None = None) -> IndexBuilt:
    """Index every person not indexed yet (or for an older version), a few thousand per
    transaction; running it again does nothing more."""
    done = 0
    with open_register(settings) as register:
        while True:
            with register.work(now=now) as ctx:
                count = index_people(ctx, limit=BATCH)
            done += count
            if count < BATCH:
                return IndexBuilt(done)


def index_people(ctx: Context, *, limit: int = BATCH) -> int:
    """Index up to `limit` people whose caption index is missing or out of date, with a
    `person.index` event each; returns how many."""
    require(ctx, "person.index")
    people = ctx.session.execute(
        select(Person.id, Person.name_ct).where(unindexed_people()).order_by(Person.id).limit(limit)
    ).all()
    if not people:
        return 0
    ids = [pid for pid, _ in people]
    old: dict[str, list[str]] = {}
    for pid, key in ctx.session.execute(
        select(PersonCaptionKey.person_id, PersonCaptionKey.caption_key).where(
            PersonCaptionKey.person_id.in_(ids)
        )
    ):
        old.setdefault(pid, []).append(key)
    if old:
        ctx.session.execute(delete(PersonCaptionKey).where(PersonCaptionKey.person_id.in_(ids)))
    ctx.session.execute(
        update(Person).where(Person.id.in_(ids)).values(caption_index=NAME_KEYS_VERSION)
    )
    decrypt = ctx.keys.field_decryptor(table="people", column="name")
    batch = RowBatch(ctx)
    for pid, name_ct in people:
        rows: dict[str, dict[str, Any] | list[dict[str, Any]] | None] = {
            "people": {"id": pid, "caption_index": NAME_KEYS_VERSION},
            "old_caption_keys": key_rows(pid, sorted(old.get(pid, []))),
            "person_caption_keys": key_rows(pid, _keys_of(ctx, decrypt(name_ct, pid))),
        }
        batch.record("person.index", rows, written=("people", "old_caption_keys"))
    batch.flush()
    return len(people)
