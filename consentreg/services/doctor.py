"""`consentreg doctor`: what is wrong with this PC's set-up, one finding per check, in the order
a fix would go (a key file others can read before a register it cannot open). Each check runs
even when an earlier one failed, where it can; nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from consentreg.errors import ConfigError, ConsentRegError, NotPermittedError
from consentreg.i18n import msg

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from consentreg.config import Settings
    from consentreg.crypto import Keyring
    from consentreg.services.unit_of_work import Context

CHECKPOINT_MAX_AGE = timedelta(days=7)
"""A register whose newest checkpoint is older than this is reported: events since are only as
safe as the database (docs/shared-server.md)."""


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok", "problem", or "skipped" (an earlier problem keeps it from running)
    message: str
    exit_code: int = 0  # the exit code the problem would give a command

    @property
    def ok(self) -> bool:
        return self.status != "problem"


class _Skipped(Exception):  # noqa: N818 - not an error: a check that cannot run
    pass


@dataclass
class _State:
    engine: Engine | None = None
    keys: Keyring | None = None
    register_ok: bool = False


def diagnose(settings: Settings, *, now: datetime) -> list[Check]:
    """Every check, in order; a check that cannot run for an earlier problem says so."""
    state = _State()
    checks: list[Check] = []
    try:
        for name, run in _CHECKS:
            checks.append(_run(name, run, settings, state, now))
    finally:
        if state.engine is not None:
            state.engine.dispose()
    return checks


def _run(
    name: str,
    run: Callable[[Settings, _State, datetime], str],
    settings: Settings,
    state: _State,
    now: datetime,
) -> Check:
    try:
        return Check(name, "ok", run(settings, state, now))
    except _Skipped as skipped:
        return Check(name, "skipped", skipped.args[0] if skipped.args else str(skipped))
    except ConsentRegError as exc:
        return Check(name, "problem", exc.args[0] if exc.args else str(exc), exc.exit_code)


def _key_file(settings: Settings, state: _State, _now: datetime) -> str:
    from consentreg.crypto import Keyring

    state.keys = Keyring.load(settings.key_file)  # mode 0600, a regular file, a real key
    return msg("key file {settings_key_file} (mode 600)", settings_key_file=settings.key_file)


def _signing_key(settings: Settings, _state: _State, _now: datetime) -> str:
    from consentreg.crypto import Signer

    Signer.load(settings.signing_key_file)
    return msg(
        "signing key {settings_signing_key_file} (mode 600)",
        settings_signing_key_file=settings.signing_key_file,
    )


def _database(settings: Settings, state: _State, _now: datetime) -> str:
    from sqlalchemy import text

    from consentreg.db.engine import database_place
    from consentreg.services.unit_of_work import engine_for

    engine = engine_for(settings)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    state.engine = engine
    place = database_place(engine)
    return msg("database reachable ({value})", value=place.path or place.server)


def _schema(_settings: Settings, state: _State, _now: datetime) -> str:
    from consentreg.db.schema import HEAD_REVISION, require_head

    engine = _need_engine(state)
    require_head(engine)
    return msg("schema at head ({HEAD_REVISION})", HEAD_REVISION=HEAD_REVISION)


def _key_matches(settings: Settings, state: _State, _now: datetime) -> str:
    from consentreg.services.register_identity import require_key

    engine = _need_engine(state)
    if state.keys is None:
        raise _Skipped(msg("key and register not compared: no usable key file"))
    identity = require_key(settings, engine, state.keys)
    state.register_ok = True
    return msg(
        "key belongs to register {identity_register_id}", identity_register_id=identity.register_id
    )


def _role(settings: Settings, state: _State, now: datetime) -> str:
    from consentreg.services.access import acting_roles

    with _work(settings, state, now) as ctx:
        roles = acting_roles(ctx)
        actor = ctx.actor
    if roles is None:
        return msg(
            "user {actor}: the register has no users yet (run `consentreg init`)", actor=actor
        )
    if not roles:
        raise NotPermittedError(
            msg(
                "user {actor} has no role in this register: an admin runs `consentreg user add {actor} --role ...`",
                actor=actor,
            )
        )
    return msg("user {actor}: {roles_list}", actor=actor, roles_list=", ".join(roles))


def _checkpoint(settings: Settings, state: _State, now: datetime) -> str:
    from sqlalchemy import func, select

    from consentreg.db.models import AuditCheckpoint

    with _work(settings, state, now) as ctx:
        newest = ctx.session.scalar(select(func.max(AuditCheckpoint.created_at)))
    if newest is None:
        raise ConfigError("no audit checkpoint yet: run `consentreg audit checkpoint`")
    age = now - newest
    if age > CHECKPOINT_MAX_AGE:
        raise ConfigError(
            msg(
                "the newest audit checkpoint is {age_days} days old: run `consentreg audit checkpoint` on a schedule (docs/shared-server.md)",
                age_days=age.days,
            )
        )
    return msg("newest audit checkpoint {value} ago", value=_ago(age))


def _witness(settings: Settings, _state: _State, _now: datetime) -> str:
    import os

    if settings.witness_dir is None:
        return msg(
            "no witness folder (CONSENTREG_WITNESS_DIR) set: checkpoints stay in the database"
        )
    if not settings.witness_dir.is_dir() or not os.access(settings.witness_dir, os.W_OK):
        raise ConfigError(
            msg(
                "the witness folder {settings_witness_dir} is missing or not writable by this user",
                settings_witness_dir=settings.witness_dir,
            )
        )
    return msg(
        "witness folder {settings_witness_dir} is writable",
        settings_witness_dir=settings.witness_dir,
    )


def _ago(age: timedelta) -> str:
    if age >= timedelta(days=1):
        return msg("{age_days} day(s)", age_days=age.days)
    hours = int(age.total_seconds() // 3600)
    return f"{hours} hour(s)" if hours else f"{int(age.total_seconds() // 60)} minute(s)"


def _need_engine(state: _State) -> Engine:
    if state.engine is None:
        raise _Skipped(msg("not checked: the database cannot be reached"))
    return state.engine


def _work(settings: Settings, state: _State, now: datetime) -> AbstractContextManager[Context]:
    from consentreg.services.unit_of_work import Register

    engine = _need_engine(state)
    if not state.register_ok or state.keys is None:
        raise _Skipped(msg("not checked: the register cannot be opened with this key"))
    return Register(settings, engine, state.keys).work(writer=False, now=now)


_CHECKS: list[tuple[str, Callable[[Settings, _State, datetime], str]]] = [
    ("key_file", _key_file),
    ("signing_key", _signing_key),
    ("database", _database),
    ("schema", _schema),
    ("key_matches_register", _key_matches),
    ("role", _role),
    ("checkpoint", _checkpoint),
    ("witness", _witness),
]
