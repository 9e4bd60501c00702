"""Forms posted twice (a double click, a reload after posting): each form the web application
renders carries a one-time token, and the unit of work that acts on a post first claims it here.
A token already claimed by the same login answers with where the first post's answer went, and
the second post writes nothing. The claim is part of the same transaction as the change, so a
post that failed can be posted again; writers are serialised (SQLite's BEGIN IMMEDIATE, the
PostgreSQL writer lock), so a second post waits for the first and then finds its claim.

Rows are a SHA-256 of the login and the token (never either in clear), not register data: not
logged, deleted a day after.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete

from consentreg.db.models import FormPost
from consentreg.errors import InvalidInputError
from consentreg.services.unit_of_work import Context

KEPT = timedelta(days=1)
MAX_TOKEN = 64


def new_token() -> str:
    return secrets.token_urlsafe(18)


def _key(ctx: Context, token: str) -> str:
    token = token.strip()
    if not token or len(token) > MAX_TOKEN or not token.isascii() or not token.isprintable():
        raise InvalidInputError("the form has no valid form token: reload the page and try again")
    return hashlib.sha256(f"{ctx.actor}\0{token}".encode()).hexdigest()


def claim(ctx: Context, *, token: str) -> str | None:
    """Claim a form's token for the acting login: None when it is new (go on, then `answer`),
    or where the answer to its first post went (do nothing else)."""
    key = _key(ctx, token)
    found = ctx.session.get(FormPost, key)
    if found is not None:
        return found.answer or ""
    ctx.session.execute(delete(FormPost).where(FormPost.at < ctx.now - KEPT))
    ctx.session.add(FormPost(key=key, at=ctx.now, answer=None))
    ctx.session.flush()
    return None


def answer(ctx: Context, *, token: str, location: str) -> None:
    """Remember where the answer to a claimed form went (in the claim's transaction)."""
    found = ctx.session.get(FormPost, _key(ctx, token))
    if found is not None:
        found.answer = location[:512]
        ctx.session.flush()
