"""The person page's actions: correct, mark as left, restrict, history, a consent's scan,
withdrawal and the take-down list it produced. Each route calls one library function
(consentreg.services.staff_person); changes go through `runtime.submit` (a form posted twice acts
once) and carry the person's version (a stale form is refused, 409)."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for

from consentreg.services import staff_person

from . import runtime
from .i18n import N_
from .i18n import gettext as _
from .routes import day, pages


def _person_page(person_id: str) -> Any:
    return lambda _result: url_for("pages.person", person_id=person_id)


@pages.get("/people/<person_id>/edit")
def person_edit(person_id: str) -> Any:
    form = runtime.view(staff_person.edit_form, person=person_id)
    return render_template("person_edit.html", form=form)


@pages.post("/people/<person_id>/correct")
def person_correct(person_id: str) -> Any:
    fields = request.form
    location = runtime.submit(
        staff_person.correct,
        answer=_person_page(person_id),
        person=person_id,
        version=fields.get("version", ""),
        name=fields.get("name", "").strip() or None,
        born=day(fields.get("born", ""), field="born"),
        ref=fields.get("ref", "").strip() or None,
        unit=fields.get("unit", "").strip() or None,
    )
    flash(_("The correction is saved."))
    return redirect(location)


@pages.post("/people/<person_id>/leave")
def person_leave(person_id: str) -> Any:
    location = runtime.submit(
        staff_person.leave,
        answer=_person_page(person_id),
        person=person_id,
        version=request.form.get("version", ""),
    )
    flash(_("Marked as left."))
    return redirect(location)


@pages.post("/people/<person_id>/restrict")
def person_restrict(person_id: str) -> Any:
    protect = request.form.get("protect") == "1"
    location = runtime.submit(
        staff_person.restrict,
        answer=_person_page(person_id),
        person=person_id,
        version=request.form.get("version", ""),
        protected=protect,
        reason=request.form.get("reason", ""),
    )
    flash(_("The identity is protected.") if protect else _("The protection is lifted."))
    return redirect(location)


@pages.get("/people/<person_id>/history")
def person_history(person_id: str) -> Any:
    found = runtime.view(staff_person.history, person=person_id)
    return render_template("person_history.html", history=found)


@pages.get("/consents/<consent_id>/evidence")
def consent_evidence(consent_id: str) -> Any:
    found = runtime.call(staff_person.evidence, consent=consent_id)
    return Response(
        found.content,
        mimetype=found.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@pages.get("/consents/<consent_id>/withdraw")
def withdraw_form(consent_id: str) -> Any:
    form = runtime.view(staff_person.withdraw_form, consent=consent_id)
    return render_template("withdraw_form.html", form=form)


@pages.post("/consents/<consent_id>/withdraw")
def withdraw(consent_id: str) -> Any:
    location = runtime.submit(
        staff_person.withdraw,
        answer=lambda done: url_for("pages.withdrawal", withdrawal_id=done.id),
        consent=consent_id,
        version=request.form.get("version", ""),
        reason=request.form.get("reason", "").strip() or None,
    )
    flash(_("The consent is withdrawn."))
    return redirect(location)


@pages.get("/withdrawals/<withdrawal_id>")
def withdrawal(withdrawal_id: str) -> Any:
    found = runtime.view(staff_person.withdrawal_page, withdrawal=withdrawal_id)
    return render_template("withdrawal.html", page=found)


@pages.get("/units/<code>/people/new")
def person_new(code: str) -> Any:
    form = runtime.view(staff_person.register_form, unit=code)
    return render_template("person_new.html", form=form, kinds=KINDS)


@pages.post("/units/<code>/people")
def person_register(code: str) -> Any:
    fields = request.form
    guardians = [
        staff_person.NewGuardian(
            name=fields.get(f"guardian{i}_name", "").strip(),
            born=day(fields.get(f"guardian{i}_born", ""), field=f"guardian{i}_born"),
        )
        for i in (1, 2)
        if fields.get(f"guardian{i}_name", "").strip() or fields.get(f"guardian{i}_born", "")
    ]
    location = runtime.submit(
        staff_person.register,
        answer=lambda pid: url_for("pages.person", person_id=pid),
        unit=code,
        name=fields.get("name", ""),
        born=day(fields.get("born", ""), field="born"),
        kind=fields.get("kind", ""),
        ref=fields.get("ref", "").strip() or None,
        guardians=guardians,
        allow_duplicate=fields.get("allow_duplicate") == "1",
    )
    flash(_("The person is registered."))
    return redirect(location)


# the kinds a unit's registration form offers (guardians are registered with a child)
KINDS = (("child", N_("Child or pupil")), ("staff", N_("Staff member")))
