"""The command's settings (global options first, then the environment) handed to the library's
unit of work (consentreg.services.unit_of_work)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from .output import OPTIONS

if TYPE_CHECKING:
    from consentreg.config import Settings
    from consentreg.services.unit_of_work import Context, Register


def settings() -> Settings:
    from consentreg.config import load_settings

    return load_settings(db_url=OPTIONS.db)


@contextmanager
def open_register() -> Iterator[Register]:
    from consentreg.services import unit_of_work as uow

    with uow.open_register(settings()) as register:
        yield register


@contextmanager
def unit_of_work(
    *, writer: bool = True, now: datetime | None = None, dry_run: bool = False
) -> Iterator[Context]:
    """The usual command: one register, one transaction (rolled back with `dry_run`)."""
    from consentreg.services import unit_of_work as uow

    with uow.unit_of_work(settings(), writer=writer, now=now, dry_run=dry_run) as ctx:
        yield ctx


def names_for(texts: Iterable[str | None]) -> dict[str, str]:
    """Names for the person IDs written in these texts, for text output only (`--json` stays
    ID-only); {} when the register cannot record the read (read-only) or the user may not."""
    if OPTIONS.json:
        return {}
    from consentreg.errors import NotPermittedError, ReadOnlyRegisterError
    from consentreg.services.names import display_names, ids_in

    ids = ids_in(texts)
    if not ids:
        return {}
    try:
        with unit_of_work() as ctx:
            return display_names(ctx, ids)
    except (ReadOnlyRegisterError, NotPermittedError):
        return {}
