"""What every request uses: the register and configuration of the application, the clock, and
the one helper through which every route calls the library (`call`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from flask import current_app, g, request, url_for

from consentreg.services import form_posts
from consentreg.services.accounts import session_for
from consentreg.services.audit.events import record_views
from consentreg.services.unit_of_work import Context, Register

from . import sessions

T = TypeVar("T")


@dataclass(frozen=True)
class WebConfig:
    """How the application behaves; `secure_cookies` is off only for tests on plain HTTP."""

    secret: bytes
    secure_cookies: bool = True
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=10)
    trusted_proxies: int = 0  # reverse proxies in front that set X-Forwarded-For/-Proto
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def register() -> Register:
    found: Register = current_app.extensions["consentreg"][0]
    return found


def config() -> WebConfig:
    found: WebConfig = current_app.extensions["consentreg"][1]
    return found


def now() -> datetime:
    return config().clock()


@contextmanager
def _work(*, writer: bool) -> Iterator[Context]:
    """One unit of work acting as the logged-in user (committed when the block returns, rolled
    back on any error), after checking in that same transaction that the session still holds
    (its epoch is the login's, the login still has a role)."""
    user = g.get("user")
    if user is None:
        raise sessions.LoginRequired
    acting = replace(register(), actor=user.login)
    with acting.work(writer=writer, now=now()) as ctx:
        if session_for(ctx, login=user.login, epoch=user.epoch) is None:
            raise sessions.SessionEnded
        yield ctx


def call(service: Callable[..., T], /, *, writer: bool = True, **kwargs: Any) -> T:
    """Call one library function for the logged-in user in one unit of work (`_work`)."""
    with _work(writer=writer) as ctx:
        return service(ctx, **kwargs)


def view(service: Callable[..., T], /, **kwargs: Any) -> T:
    """`call` for a page that only shows: the library reads in a read-only transaction (no
    writer lock while it reads, which on SQLite is one lock for the whole register), keeping
    the views of personal data it records; those are then recorded in a short writer
    transaction, and only then is the answer returned to be shown. A change attempted inside
    is refused (RuntimeError)."""
    with _work(writer=False) as ctx:
        ctx.views = []
        result = service(ctx, **kwargs)
        views = ctx.views
    if views:
        with replace(register(), actor=ctx.actor).work(writer=True, now=now()) as writing:
            record_views(writing, views)
    return result


def submit(service: Callable[..., T], /, *, answer: Callable[[T], str], **kwargs: Any) -> str:
    """Act on a posted form once: `call`, with the form's one-time token (the `once` field)
    claimed in the same unit of work. Returns where to send the browser: `answer` of the
    service's result, or, for a form posted again (a double click), where its first post went,
    having written nothing."""
    with _work(writer=True) as ctx:
        token = request.form.get("once", "")
        earlier = form_posts.claim(ctx, token=token)
        if earlier is not None:
            return earlier or url_for("pages.start")
        location = answer(service(ctx, **kwargs))
        form_posts.answer(ctx, token=token, location=location)
        return location


def call_anonymous(service: Callable[..., T], /, *, actor: str, **kwargs: Any) -> T:
    """Call a library function before anyone has logged in (the login itself)."""
    acting = replace(register(), actor=actor)
    with acting.work(writer=True, now=now()) as ctx:
        return service(ctx, **kwargs)
