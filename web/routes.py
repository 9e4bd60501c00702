"""The pages. Each route parses the request, calls one library function through `runtime.call`
(one unit of work, the session checked in it; `runtime.view` for a page that only shows) and
renders a template or redirects."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from consentreg.errors import InvalidInputError
from consentreg.services import accounts, staff

from . import runtime, sessions, texts
from .i18n import gettext as _

pages = Blueprint("pages", __name__)
OSLO = ZoneInfo("Europe/Oslo")


@pages.app_context_processor
def _words() -> dict[str, Any]:
    return {"texts": texts}


@pages.app_template_filter("oslo")
@lru_cache(maxsize=4096)  # a page of decisions shows the same few instants thousands of times
def _oslo(instant: datetime) -> str:
    """An instant as staff read it: the date and time in Norway."""
    return instant.astimezone(OSLO).strftime("%Y-%m-%d %H:%M")


@pages.get("/")
def start() -> Any:
    return render_template("start.html", page=runtime.call(staff.start_page, writer=False))


@pages.get("/login")
def login() -> Any:
    if g.get("user"):
        return redirect(url_for("pages.start"))
    return render_template("login.html", expired=bool(request.args.get("expired")))


@pages.post("/login")
def login_post() -> Any:
    name = request.form.get("login", "").strip()
    outcome = runtime.call_anonymous(
        accounts.log_in,
        actor="web",
        login=name,
        password=request.form.get("password", ""),
        address=request.remote_addr or "unknown",
    )
    if outcome.session is None:
        status = 429 if outcome.refused == "throttled" else 401
        return render_template("login.html", refused=outcome.refused, login=name), status
    sessions.begin(outcome.session)
    return redirect(sessions.safe_next(request.args.get("next")))


@pages.post("/logout")
def logout() -> Any:
    sessions.end()
    flash(_("You are logged out."))
    return redirect(url_for("pages.login"))


@pages.post("/logout-everywhere")
def logout_everywhere() -> Any:
    runtime.call(accounts.end_sessions, login=g.user.login if g.get("user") else "")
    sessions.end()
    flash(_("You are logged out everywhere."))
    return redirect(url_for("pages.login"))


@pages.get("/units/<code>")
def unit(code: str) -> Any:
    page = request.args.get("page", "1")  # not a number: page 0, refused as out of range
    overview = runtime.view(staff.unit_overview, unit=code, page=int(page) if page.isdigit() else 0)
    return render_template("unit.html", overview=overview)


@pages.get("/people/<person_id>")
def person(person_id: str) -> Any:
    return render_template("person.html", page=runtime.view(staff.person_page, person=person_id))


@pages.get("/people/<person_id>/consents/new")
def consent_form(person_id: str) -> Any:
    form = runtime.view(staff.consent_form, person=person_id)
    return render_template("consent_form.html", form=form)


@pages.post("/people/<person_id>/consents")
def consent_record(person_id: str) -> Any:
    fields = request.form
    folder = Path(tempfile.mkdtemp(prefix="consentreg-upload-"))
    try:
        location = runtime.submit(
            staff.record_consents,
            answer=lambda _ids: url_for("pages.person", person_id=person_id),
            subject=person_id,
            version=fields.get("version", ""),
            purposes=fields.getlist("purpose"),
            by=fields.getlist("by"),
            kind=fields.get("decision", ""),
            method=fields.get("method", ""),
            given=day(fields.get("given", ""), field="given"),
            evidence=_saved(request.files.get("evidence"), folder),
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    flash(_("The decision is recorded."))
    return redirect(location)


def day(text: str, *, field: str) -> date | None:
    """A date field (YYYY-MM-DD, as a date input sends it); None when left empty."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(f"{field} must be a date written YYYY-MM-DD") from None


def _saved(upload: FileStorage | None, folder: Path) -> Path | None:
    """An uploaded file saved in a private folder under a safe name, or None when none was sent."""
    if upload is None or not upload.filename:
        return None
    path = folder / (secure_filename(upload.filename) or "evidence")
    upload.save(path)
    return path
