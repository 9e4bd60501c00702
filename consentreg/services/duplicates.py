"""Likely duplicates: people already registered with the same name and birth date.

Names and birth dates are stored encrypted, so they are compared in two steps. The keyed blind
index of each name word (the one `person list --name` searches) finds the people whose name
holds every word of a wanted name; only those candidates are decrypted, and a candidate is a
duplicate when its name normalises to the same words (`normalise_name`, any case, with or
without diacritics) and its birth date is the same. People who have left count too: a child
who comes back is the same person.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select

from consentreg.db.models import Person, PersonNameToken
from consentreg.domain.caption import normalise_name
from consentreg.services.unit_of_work import Context

_CHUNK = 5000


def likely_duplicates(ctx: Context, entries: Sequence[tuple[str, date]]) -> dict[int, str]:
    """For each entry (name, birth date), by its position, the ID of a registered person with
    the same name and birth date (the first by ID when several are); entries with none are left
    out."""
    wanted: list[tuple[str, date, frozenset[str]]] = []
    by_token: dict[str, list[int]] = {}  # each entry under one of its name words
    for i, (name, born) in enumerate(entries):
        words = normalise_name(name)
        tokens = frozenset(ctx.keys.blind_index(w, index="people.name") for w in words.split())
        wanted.append((words, born, tokens))
        if tokens:
            by_token.setdefault(min(tokens), []).append(i)
    held = _tokens_held(ctx, sorted({t for _, _, tokens in wanted for t in tokens}))
    candidates: dict[str, list[int]] = {}
    for person_id, words_held in held.items():
        for token in words_held & by_token.keys():
            for i in by_token[token]:
                if wanted[i][2] <= words_held:
                    candidates.setdefault(person_id, []).append(i)
    found: dict[int, str] = {}
    for person_id, name, born in _decrypted(ctx, sorted(candidates)):
        words = normalise_name(name)
        for i in candidates[person_id]:
            if i not in found and wanted[i][0] == words and wanted[i][1] == born:
                found[i] = person_id
    return found


def _tokens_held(ctx: Context, tokens: list[str]) -> dict[str, set[str]]:
    """Each person holding any of these name words, with the words of them they hold."""
    held: dict[str, set[str]] = {}
    for i in range(0, len(tokens), _CHUNK):
        rows = ctx.session.execute(
            select(PersonNameToken.person_id, PersonNameToken.token_bidx).where(
                PersonNameToken.token_bidx.in_(tokens[i : i + _CHUNK])
            )
        )
        for person_id, token in rows:
            held.setdefault(person_id, set()).add(token)
    return held


def _decrypted(ctx: Context, ids: list[str]) -> list[tuple[str, str, date]]:
    name = ctx.keys.field_decryptor(table="people", column="name")
    born = ctx.keys.field_decryptor(table="people", column="born")
    found = []
    for i in range(0, len(ids), _CHUNK):
        rows = ctx.session.execute(
            select(Person.id, Person.name_ct, Person.born_ct)
            .where(Person.id.in_(ids[i : i + _CHUNK]))
            .order_by(Person.id)
        )
        found += [(pid, name(n, pid), date.fromisoformat(born(b, pid))) for pid, n, b in rows]
    return found
