"""The unit of work: open the register once (settings, engine, schema check, keys), then run each
use case in one transaction that commits when it returns and rolls back on any error. Each use
case receives the transaction's `Context`: the session, the keys, who acts and when.

Every entry point uses this and nothing else: the command line, the tests, the web application."""

from __future__ import annotations

import getpass
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy.orm import Session

from consentreg.crypto import Keyring
from consentreg.errors import ConfigError
from consentreg.i18n import msg

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from consentreg.config import Settings


@dataclass(frozen=True)
class AuditHead:
    """The audit chain's last event as this transaction knows it."""

    seq: int
    hash: str


def new_id() -> str:
    """An opaque, random identifier (no order, no meaning): 32 hex digits of 16 random bytes."""
    return secrets.token_hex(16)


class RecordedView(NamedTuple):
    """A view of personal data to record (`audit.query`): which view, whose IDs, filters."""

    view: str
    ids: dict[str, Any]
    payload: dict[str, Any] | None


@dataclass
class Context:
    """What every use case receives: one session (one transaction), the keys, who acts and
    when. Everything a use case stores, evidence too, goes through the session: it is committed
    with the rest or not at all."""

    session: Session
    keys: Keyring
    actor: str
    now: datetime
    audit_head: AuditHead | None = None
    # a read-only view's transaction: the views it records, kept here to be recorded after it
    # in a short writer transaction (consentreg.services.audit.events.record_views); no
    # change may be made in it
    views: list[RecordedView] | None = None
    # what a use case looked up once for the whole transaction (the acting user's roles)
    cache: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # person data keys are fetched when first needed and kept for this transaction only
        session = self.session
        self.keys = self.keys.bound(lambda ids: _wrapped_person_keys(session, ids))


def _wrapped_person_keys(session: Session, person_ids: Sequence[str]) -> dict[str, bytes | None]:
    """The wrapped data keys of these people (None: erased); people without a row are left
    out."""
    from sqlalchemy import select

    from consentreg.db.models import PersonKey

    found: dict[str, bytes | None] = {}
    ids = list(person_ids)
    for i in range(0, len(ids), 5000):
        rows = session.execute(
            select(PersonKey.person_id, PersonKey.wrapped_key).where(
                PersonKey.person_id.in_(ids[i : i + 5000])
            )
        )
        found.update({pid: None if key is None else bytes(key) for pid, key in rows})
    return found


def engine_for(settings: Settings) -> Engine:
    """The register's engine; a missing SQLite register is a clear error, not a new empty file."""
    from consentreg.db.engine import make_engine

    if settings.sqlite_file is not None and not settings.sqlite_file.exists():
        raise ConfigError(
            msg(
                "no register at {settings_sqlite_file}: run `consentreg init` first",
                settings_sqlite_file=settings.sqlite_file,
            )
        )
    return make_engine(settings.db_url)


def import_database_stack(settings: Settings) -> None:
    """Import what opening the register imports (the database driver and its SQLAlchemy dialect)
    without connecting, so that helper processes forked afterwards inherit it. Fails as opening
    would."""
    engine_for(settings).dispose()


class _RolledBack(Exception):  # noqa: N818 - not an error: how a dry run leaves its transaction
    pass


@dataclass
class Register:
    """An open register: what every unit of work needs. `actor` overrides who acts (the tests,
    and later a logged-in web user); by default the OS login on SQLite, the database login on
    PostgreSQL."""

    settings: Settings
    engine: Engine
    keys: Keyring
    actor: str | None = None

    @contextmanager
    def work(
        self, *, writer: bool = True, now: datetime | None = None, dry_run: bool = False
    ) -> Iterator[Context]:
        """One transaction: commit when the block returns, roll back on any error; with
        `dry_run`, roll back in any case (what a change would do, shown, nothing written)."""
        from consentreg.db.engine import session_scope

        try:
            with session_scope(self.engine, writer=writer) as session:
                yield Context(
                    session=session,
                    keys=self.keys,
                    actor=self.actor or self._login(session),
                    now=now or datetime.now(UTC),
                )
                if dry_run:
                    raise _RolledBack
        except _RolledBack:
            pass

    def _login(self, session: Session) -> str:
        if self.settings.is_sqlite:
            return getpass.getuser()
        from sqlalchemy import text

        return str(session.scalar(text("SELECT current_user")))


@contextmanager
def open_register(settings: Settings, *, actor: str | None = None) -> Iterator[Register]:
    """Settings, engine, schema-at-head check (SchemaOutOfDateError), keys and the check that
    they are this register's (WrongKeyError, exit 7), for as long as the block runs."""
    from consentreg.db.schema import require_head
    from consentreg.services.register_identity import require_key

    engine = engine_for(settings)
    try:
        require_head(engine)
        keys = Keyring.load(settings.key_file)
        require_key(settings, engine, keys)  # another register's key: refused before anything
        yield Register(settings, engine, keys, actor)
    finally:
        engine.dispose()


@contextmanager
def unit_of_work(
    settings: Settings, *, writer: bool = True, now: datetime | None = None, dry_run: bool = False
) -> Iterator[Context]:
    """The usual use case: one register, one transaction (rolled back whatever happens with
    `dry_run`)."""
    with (
        open_register(settings) as register,
        register.work(writer=writer, now=now, dry_run=dry_run) as ctx,
    ):
        yield ctx
