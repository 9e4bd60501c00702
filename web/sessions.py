"""Sessions and CSRF.

A session is a cookie signed with the server's secret (Flask's session, itsdangerous): the
login, the session epoch it was issued under, when it was issued and when it was last used, and
the CSRF token. Nothing is kept on the server, so any instance behind a load balancer can answer.
A session ends when it has been idle too long, when it is older than the absolute limit, or at
once when the login's epoch in the database moves on ("log out everywhere", a new password) or
the login loses its last role: `app.call` checks these in the unit of work of every request.

A form that changes the register also carries a one-time token of its own (`once`), claimed in
the unit of work that acts on it, so that a form posted twice acts once (runtime.submit).

Every POST carries the session's CSRF token in a hidden field (`csrf_token`), compared in
constant time before the route runs; a request whose Origin header names another site is
refused too. The login form has a token of its own anonymous session.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, g, redirect, request, session, url_for

from consentreg.domain.roles import allows
from consentreg.services.accounts import StaffSession
from consentreg.services.form_posts import new_token


class LoginRequired(Exception):  # noqa: N818 - a redirect to the login page, not a failure
    """No session: the login page, then back."""


class SessionEnded(Exception):  # noqa: N818
    """The session's epoch is stale or the login has no role left: log in again."""


@dataclass(frozen=True)
class User:
    login: str
    epoch: int
    roles: tuple[str, ...] = ()  # as at login: for what to offer, never for what to allow

    @property
    def may_end_sessions(self) -> bool:
        return any(allows(role, "user.logout_all") for role in self.roles)

    @property
    def may_see_takedowns(self) -> bool:
        return any(allows(role, "takedown.list") for role in self.roles)

    @property
    def may_register(self) -> bool:
        return any(allows(role, "person.add") for role in self.roles)

    @property
    def may_audit(self) -> bool:
        return any(allows(role, "audit.read") for role in self.roles)

    @property
    def may_manage_users(self) -> bool:
        return any(allows(role, "user.add") for role in self.roles)


def install(app: Flask) -> None:
    app.before_request(_load_user)
    app.before_request(_check_csrf)
    app.context_processor(
        lambda: {"csrf_token": csrf_token, "once_token": new_token, "user": g.get("user")}
    )
    app.register_error_handler(LoginRequired, _to_login)
    app.register_error_handler(SessionEnded, _ended)


def _seconds() -> int:
    from .runtime import now

    return int(now().timestamp())


def _load_user() -> None:
    from .runtime import config

    login, epoch = session.get("login"), session.get("epoch")
    if not isinstance(login, str) or not isinstance(epoch, int):
        return
    at, cfg = _seconds(), config()
    issued, seen = int(session.get("issued", 0)), int(session.get("seen", 0))
    if at - seen > cfg.idle.total_seconds() or at - issued > cfg.absolute.total_seconds():
        session.clear()
        g.expired = True
        return
    session["seen"] = at
    g.user = User(login, epoch, tuple(session.get("roles", ())))


def begin(found: StaffSession) -> None:
    """Start a session for a login that proved who it is (a new CSRF token with it)."""
    at = _seconds()
    session.clear()
    session.permanent = True
    session.update(
        login=found.login,
        epoch=found.epoch,
        roles=found.roles,
        issued=at,
        seen=at,
        csrf=secrets.token_urlsafe(32),
    )


def end() -> None:
    session.clear()


def csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/") != request.host_url.rstrip("/"):
        abort(403, "origin")
    expected, given = session.get("csrf"), request.form.get("csrf_token")
    if not isinstance(expected, str) or not given or not hmac.compare_digest(expected, given):
        abort(403, "csrf")


def _to_login(_exc: Exception) -> Any:
    if g.get("expired"):
        return redirect(url_for("pages.login", next=_here(), expired=1))
    return redirect(url_for("pages.login", next=_here()))


def _ended(_exc: Exception) -> Any:
    session.clear()
    return redirect(url_for("pages.login", expired=1))


def _here() -> str:
    return request.full_path.rstrip("?") if request.method == "GET" else "/"


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (no //host, no scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("pages.start")
    return target
