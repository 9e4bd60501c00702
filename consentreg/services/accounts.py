"""Staff accounts of the web application: a password per login (argon2id), logging in with
throttling shared by every instance through the database, and the session epoch that ends a
login's sessions at once (docs/architecture.md, "The web application").

A login's roles are the register's (`users`, consentreg.services.access); a password only proves
who is at the keyboard. A login without an active role cannot log in, and its sessions end on
its next request. The single sign-on of a municipality (OpenID Connect) would prove the same
thing another way: it ends in `session_for`, which is what a password check leads to as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select

from consentreg.db.models import LoginFailure, User, UserCredential
from consentreg.errors import InvalidInputError, NotFoundError, NotPermittedError
from consentreg.i18n import msg
from consentreg.services.access import require
from consentreg.services.audit import log as audit_log
from consentreg.services.unit_of_work import Context, new_id

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
# guessing: at most this many failures per login, and per client address, within the window
FAILURES_PER_LOGIN = 5
FAILURES_PER_ADDRESS = 20
THROTTLE_WINDOW = timedelta(minutes=15)


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    """argon2id with the library's defaults (RFC 9106's second recommendation: t=3, 64 MiB)."""
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check an unknown login's password against: it costs as long as a known one's."""
    return _hasher().hash(new_id())


@dataclass(frozen=True)
class StaffSession:
    """Who a valid session belongs to: the login, the epoch it was issued under and the
    login's active roles (sorted)."""

    login: str
    epoch: int
    roles: list[str]


@dataclass(frozen=True)
class LoginOutcome:
    """A login attempt: the session to issue, or why not (`wrong`: login or password wrong,
    said alike; `throttled`: too many recent failures, try later)."""

    session: StaffSession | None
    refused: str | None = None


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInputError(
            msg("the password is shorter than {MIN_PASSWORD} characters", MIN_PASSWORD=MIN_PASSWORD)
        )
    if len(password) > MAX_PASSWORD:
        raise InvalidInputError(
            msg("the password is longer than {MAX_PASSWORD} characters", MAX_PASSWORD=MAX_PASSWORD)
        )
    if not password.isprintable():
        raise InvalidInputError("the password holds control characters or line breaks")


def _roles_of(ctx: Context, login: str) -> list[str]:
    rows = ctx.session.scalars(
        select(User.role).where(User.login == login, User.removed_at.is_(None))
    ).all()
    return sorted(set(rows))


def set_password(ctx: Context, *, login: str, password: str) -> int:
    """Set or reset a login's web password (admin only); the login must hold a role. A reset
    ends the login's sessions. Returns the new session epoch."""
    require(ctx, "user.password")
    login = login.strip()
    if not _roles_of(ctx, login):
        raise NotFoundError(
            msg("{login} has no role here: `consentreg user add` first", login=login)
        )
    _check_password(password)
    hashed = _hasher().hash(password)
    row = ctx.session.get(UserCredential, login)
    if row is None:
        row = UserCredential(
            login=login, password_hash=hashed, session_epoch=1, set_at=ctx.now, set_by=ctx.actor
        )
        ctx.session.add(row)
        action = "user.password"
    else:
        row.password_hash, row.set_at, row.set_by = hashed, ctx.now, ctx.actor
        row.session_epoch += 1
        action = "user.password_reset"
    ctx.session.flush()
    audit_log.record(ctx, action, {"user_credentials": row})
    return row.session_epoch


def end_sessions(ctx: Context, *, login: str) -> int:
    """Log a login out everywhere: every session issued before ends at its next request. Staff
    may do it for themselves, an admin for anyone. Returns the new epoch."""
    require(ctx, "user.logout_all")
    login = login.strip()
    if login != ctx.actor:
        require(ctx, "user.password")  # someone else's sessions: an admin's action
    row = ctx.session.get(UserCredential, login)
    if row is None:
        raise NotFoundError(msg("{login} has no password here", login=login))
    row.session_epoch += 1
    ctx.session.flush()
    audit_log.record(ctx, "user.logout_all", {"user_credentials": row})
    return row.session_epoch


def _keys(ctx: Context, login: str, address: str) -> tuple[str, str]:
    return (
        ctx.keys.blind_index(login, index="login_failures.login"),
        ctx.keys.blind_index(address, index="login_failures.address"),
    )


def _recent_failures(ctx: Context, login_key: str, address_key: str) -> tuple[int, int]:
    since = ctx.now - THROTTLE_WINDOW
    count = select(func.count()).select_from(LoginFailure).where(LoginFailure.at > since)
    by_login = ctx.session.scalar(count.where(LoginFailure.login_key == login_key)) or 0
    by_address = ctx.session.scalar(count.where(LoginFailure.address_key == address_key)) or 0
    return by_login, by_address


def _password_matches(stored: str | None, password: str) -> bool:
    try:
        return _hasher().verify(stored or _dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def log_in(ctx: Context, *, login: str, password: str, address: str) -> LoginOutcome:
    """Check a login's password (a writer unit of work: a failure is recorded, and counts
    against the login and the client's address for THROTTLE_WINDOW). Throttled attempts are
    refused before the password is checked, right or wrong."""
    login = login.strip()[:128]
    login_key, address_key = _keys(ctx, login, address)
    by_login, by_address = _recent_failures(ctx, login_key, address_key)
    if by_login >= FAILURES_PER_LOGIN or by_address >= FAILURES_PER_ADDRESS:
        return LoginOutcome(None, "throttled")
    row = ctx.session.get(UserCredential, login) if login else None
    roles = _roles_of(ctx, login) if row is not None else []
    if not _password_matches(row.password_hash if row else None, password[:MAX_PASSWORD]) or (
        not roles
    ):
        ctx.session.execute(
            delete(LoginFailure).where(LoginFailure.at <= ctx.now - THROTTLE_WINDOW)
        )
        ctx.session.add(
            LoginFailure(id=new_id(), login_key=login_key, address_key=address_key, at=ctx.now)
        )
        return LoginOutcome(None, "wrong")
    assert row is not None  # noqa: S101 - a match needs a stored hash
    ctx.session.execute(delete(LoginFailure).where(LoginFailure.login_key == login_key))
    return LoginOutcome(StaffSession(login, row.session_epoch, roles))


def session_for(ctx: Context, *, login: str, epoch: int) -> StaffSession | None:
    """The session of a login at an epoch, if it still holds: the epoch is the login's current
    one and the login still has a role. None: the session has ended."""
    row = ctx.session.get(UserCredential, login)
    if row is None or row.session_epoch != epoch:
        return None
    roles = _roles_of(ctx, login)
    return StaffSession(login, epoch, roles) if roles else None


def require_session(ctx: Context, *, login: str, epoch: int) -> StaffSession:
    """`session_for`, refused (NotPermittedError) when the session has ended."""
    found = session_for(ctx, login=login, epoch=epoch)
    if found is None:
        raise NotPermittedError("the session has ended: log in again")
    return found
