"""Names beside IDs, for the staff who read the command's text at their own screen.

Which outputs show names (docs/cli.md, "Names and IDs"): text for the person at the screen
(`check`/`publish` refusals, take-down lists, `consent list`, `person show`). Which stay ID-only:
every `--json` document (scripts pass them on), the auditor views and exports handed to others
(`audit publications`, `audit log`, `audit consents`). Every decryption of names for display is
recorded in the audit log as a read (view `names`, the IDs only), like an auditor's view.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select

from consentreg.db.models import Person
from consentreg.services.access import registrar_scope, require
from consentreg.services.audit.events import record_query
from consentreg.services.people import decrypt_name
from consentreg.services.unit_of_work import Context

_HEX_ID = re.compile(r"\b[0-9a-f]{32}\b")


def ids_in(texts: Iterable[str | None]) -> set[str]:
    """Every 32-hex ID written in these texts (reasons name people by ID)."""
    return {m for text in texts if text for m in _HEX_ID.findall(text)}


def names_by_id(ctx: Context, ids: Iterable[str]) -> dict[str, str]:
    """The names of these people, decrypted, a thousand rows a query; not recorded here: the
    caller records the view it shows them in (or uses them only to order a page)."""
    wanted = sorted(set(ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        for person in ctx.session.scalars(select(Person).where(Person.id.in_(chunk))):
            found[person.id] = decrypt_name(ctx, person)
    return found


def display_names(ctx: Context, ids: Iterable[str]) -> dict[str, str]:
    """The names of those of `ids` that are people this user may see (others are left out:
    shown by ID); the read is recorded. Needs a writer transaction (the record)."""
    require(ctx, "read.register")
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    scope = registrar_scope(ctx)
    names: dict[str, str] = {}
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        for person in ctx.session.scalars(select(Person).where(Person.id.in_(chunk))):
            if scope is None or person.unit_id is None or person.unit_id in scope:
                names[person.id] = decrypt_name(ctx, person)
    if names:
        record_query(ctx, "names", ids={"people": sorted(names)})
    return names


def with_names(text: str, names: dict[str, str]) -> str:
    """`text` with each known person ID written as "Name (first 8 of the ID)"."""
    return _HEX_ID.sub(lambda m: f"{names[m[0]]} ({m[0][:8]})" if m[0] in names else m[0], text)
