"""The audit pages (docs/web.md, "Audit pages"), for auditors and admins: who had consented to
what as of an instant, the publication log, verification of the log and a person's access
report. Each route calls one library function (consentreg.services.staff_audit or
access_report) with the checks and records of the command line; none changes the register
(verify is posted, because it may take a while, and writes nothing, as `audit verify`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, redirect, render_template, request, url_for

from consentreg.domain.calendar import parse_at
from consentreg.errors import InvalidInputError
from consentreg.printing import html_to_pdf
from consentreg.services import staff_audit
from consentreg.services.access_report import access_report

from . import runtime
from .routes import OSLO, pages

# the access report is a page of its own: its style is inline, nothing else is allowed
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


@pages.get("/audit")
def audit() -> Any:
    return render_template("audit_index.html", choices=runtime.view(staff_audit.choices))


def _instant(day: str, clock: str, *, field: str) -> datetime | None:
    """A date and an optional time of day (Oslo time, as the form sends them) read as
    `audit consents --as-of` reads "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM"; None when no date."""
    day, clock = day.strip(), clock.strip()
    if not day:
        if clock:
            raise InvalidInputError(f"{field}: a time needs a date")
        return None
    try:
        return parse_at(f"{day}T{clock}" if clock else day)
    except InvalidInputError:
        raise InvalidInputError(f"{field}: expected a date YYYY-MM-DD and a time HH:MM") from None


def _now_fields() -> tuple[str, str]:
    here = runtime.now().astimezone(OSLO)
    return here.strftime("%Y-%m-%d"), here.strftime("%H:%M")


@pages.get("/audit/consents")
def audit_consents() -> Any:
    args = request.args
    unit, purpose = args.get("unit", "").strip(), args.get("purpose", "").strip() or None
    day, clock = args.get("date", ""), args.get("time", "")
    if not unit:  # the form, nothing asked yet
        day, clock = _now_fields()
        found = runtime.view(staff_audit.choices)
        return render_template("audit_consents.html", choices=found, page=None, day=day, at=clock)
    as_of = _instant(day, clock, field="as of") or runtime.now()
    number = args.get("page", "1")  # not a number: page 0, refused as out of range
    page = runtime.view(
        staff_audit.consents_page,
        unit=unit,
        purpose=purpose,
        as_of=as_of,
        page=int(number) if number.isdigit() else 0,
    )
    return render_template(
        "audit_consents.html", choices=page.choices, page=page, day=day, at=clock
    )


@pages.get("/audit/publications")
def audit_publications() -> Any:
    args = request.args
    since = _instant(args.get("since", ""), "", field="since")
    purpose = args.get("purpose", "").strip() or None
    page = runtime.view(staff_audit.publications_page, since=since, purpose=purpose)
    return render_template("audit_publications.html", page=page, since=args.get("since", ""))


@pages.get("/audit/person")
def audit_person() -> Any:
    """The history or the access report of the person asked for by ID or `ref:`."""
    person = request.args.get("person", "").strip()
    if not person:
        raise InvalidInputError("person: give a person ID or ref:EXTERNAL_ID")
    target = {
        "history": "pages.person_history",
        "report": "pages.access_report_html",
        "pdf": "pages.access_report_pdf",
    }.get(request.args.get("show", "history"), "pages.person_history")
    return redirect(url_for(target, person_id=person))


@pages.get("/audit/verify")
def audit_verify_form() -> Any:
    runtime.view(staff_audit.choices)  # auditors and admins only, as the check itself
    return render_template("audit_verify.html", report=None)


@pages.post("/audit/verify")
def audit_verify() -> Any:
    witness_dir = runtime.register().settings.witness_dir
    report = runtime.call(staff_audit.verify, writer=False, witness_dir=witness_dir)
    return render_template("audit_verify.html", report=report)


@pages.get("/people/<person_id>/access-report")
def access_report_html(person_id: str) -> Any:
    page = runtime.view(access_report, key=person_id)
    return Response(
        page,
        mimetype="text/html",
        headers={"Content-Security-Policy": REPORT_CSP, "Cache-Control": "no-store"},
    )


@pages.get("/people/<person_id>/access-report.pdf")
def access_report_pdf(person_id: str) -> Any:
    """The same page printed by the server's Chromium (consentreg.printing), after the unit of
    work that read and recorded it has ended."""
    pdf = html_to_pdf(runtime.view(access_report, key=person_id))
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": 'attachment; filename="innsyn.pdf"',
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
