"""Opening the register for one command: settings, schema check, keys, units of work."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .output import OPTIONS

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from consentreg.config import Settings
    from consentreg.crypto import Keyring
    from consentreg.services.context import Context


def settings() -> Settings:
    from consentreg.config import load_settings

    return load_settings(db_url=OPTIONS.db)


def engine_for(s: Settings) -> Engine:
    from consentreg.db.engine import make_engine
    from consentreg.errors import ConfigError

    if s.sqlite_file is not None and not s.sqlite_file.exists():
        raise ConfigError(f"no register at {s.sqlite_file}: run `consentreg init` first")
    return make_engine(s.db_url)


def import_database_stack() -> None:
    """Import what opening the register imports (the database driver and SQLAlchemy's dialect
    for it: about 0.1 s for PostgreSQL) without connecting, so that helper processes forked
    afterwards inherit it instead of each importing it again. Fails as opening would."""
    engine_for(settings()).dispose()


@dataclass
class Register:
    settings: Settings
    engine: Engine
    keys: Keyring

    @contextmanager
    def work(self, *, writer: bool = True, now: datetime | None = None) -> Iterator[Context]:
        """One transaction: commit when the block returns, roll back on any error; staged files
        (evidence) are moved into place only after the commit."""
        from sqlalchemy import text

        from consentreg.db.engine import session_scope
        from consentreg.services.context import Context

        ctx: Context | None = None
        try:
            with session_scope(self.engine, writer=writer) as session:
                actor = (
                    getpass.getuser()
                    if self.settings.is_sqlite
                    else str(session.scalar(text("SELECT current_user")))
                )
                ctx = Context(
                    session=session,
                    keys=self.keys,
                    actor=actor,
                    now=now or datetime.now(UTC),
                    evidence_dir=self.settings.evidence_dir,
                )
                yield ctx
        except BaseException:
            if ctx is not None:
                ctx.abandon()
            raise
        ctx.finish()


@contextmanager
def open_register() -> Iterator[Register]:
    """Settings, engine, schema-at-head check (exit 6) and keys, for the whole command."""
    from consentreg.crypto import Keyring
    from consentreg.db.schema import require_head

    s = settings()
    engine = engine_for(s)
    try:
        require_head(engine)
        yield Register(s, engine, Keyring.load(s.key_file))
    finally:
        engine.dispose()


@contextmanager
def unit_of_work(*, writer: bool = True, now: datetime | None = None) -> Iterator[Context]:
    """The usual command: one register, one transaction."""
    with open_register() as register, register.work(writer=writer, now=now) as ctx:
        yield ctx
