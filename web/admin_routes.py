"""The take-down worklist and the administration of users. Each route calls one library
function (consentreg.services.staff_admin); changes go through `runtime.submit`, so a form
posted twice acts once."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from consentreg.services import staff_admin

from . import runtime
from .i18n import gettext as _
from .routes import pages


@pages.get("/takedown")
def takedown() -> Any:
    return render_template("takedown.html", page=runtime.view(staff_admin.takedown_page))


@pages.post("/takedown/<publication_id>/done")
def takedown_done(publication_id: str) -> Any:
    location = runtime.submit(
        staff_admin.mark_taken_down,
        answer=lambda _done: url_for("pages.takedown"),
        publication=publication_id,
        note=request.form.get("note", "").strip() or None,
    )
    flash(_("Marked as taken down."))
    return redirect(location)


@pages.get("/users")
def users() -> Any:
    return render_template("users.html", page=runtime.view(staff_admin.users_page))


def _to_users(_result: object) -> str:
    return url_for("pages.users")


@pages.post("/users/roles")
def user_add_role() -> Any:
    fields = request.form
    location = runtime.submit(
        staff_admin.add_role,
        answer=_to_users,
        login=fields.get("login", ""),
        role=fields.get("role", ""),
        units=fields.getlist("unit"),
    )
    flash(_("The role is added."))
    return redirect(location)


@pages.post("/users/roles/remove")
def user_remove_role() -> Any:
    location = runtime.submit(
        staff_admin.remove_role,
        answer=_to_users,
        login=request.form.get("login", ""),
        role=request.form.get("role", ""),
    )
    flash(_("The role is removed."))
    return redirect(location)


@pages.post("/users/password")
def user_password() -> Any:
    fields = request.form
    location = runtime.submit(
        staff_admin.set_password,
        answer=_to_users,
        login=fields.get("login", ""),
        password=fields.get("password", ""),
        repeated=fields.get("repeated", ""),
    )
    flash(_("The password is set. Tell the person in person."))
    return redirect(location)
