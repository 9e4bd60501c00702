"""The staff's pages for consent rounds (issue #21): the rounds and a form to start one, a
round's status (answered, partly answered, not answered), its letters or reminders as a PDF
download, closing it. Each route calls one library function (services/rounds.py,
services/round_letters.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from consentreg.services import renewal, round_letters
from consentreg.services import rounds as round_service

from . import runtime, texts
from .i18n import gettext as _
from .routes import day

rounds = Blueprint("rounds", __name__)
STATES = texts.ROUND_STATES


@rounds.get("/rounds")
def rounds_list() -> Any:
    page = runtime.call(round_service.rounds_page, writer=False)
    return render_template("rounds.html", page=page)


@rounds.post("/rounds")
def round_start() -> Any:
    fields = request.form
    location = runtime.submit(
        round_service.start_round,
        answer=lambda view: url_for("rounds.round_page", round_id=view.id),
        unit=fields.get("unit", ""),
        purposes=fields.getlist("purpose"),
        ends_on=day(fields.get("until", ""), field="until"),
    )
    flash(_("The round is started. Print its letters below."))
    return redirect(location)


@rounds.post("/rounds/renewal")
def renewal_start() -> Any:
    location = runtime.submit(
        round_service.start_renewal,
        answer=lambda view: url_for("rounds.round_page", round_id=view.id),
        unit=request.form.get("unit", ""),
        before=day(request.form.get("before", ""), field="before"),
    )
    flash(_("The renewal round is started. Print its letters below."))
    return redirect(location)


@rounds.get("/rounds/renewal")
def renewal_list() -> Any:
    args = request.args
    page = args.get("page", "1")  # not a number: page 0, refused as out of range
    found = runtime.view(
        renewal.renewal_page,
        unit=args.get("unit") or None,
        before=day(args.get("before", ""), field="before"),
        page=int(page) if page.isdigit() else 0,
    )
    return render_template("renewal.html", page=found)


@rounds.get("/rounds/<round_id>")
def round_page(round_id: str) -> Any:
    status = runtime.view(round_service.round_status, round_id=round_id)
    return render_template("round.html", status=status, states=STATES)


def _pdf(*, round_id: str, unanswered: bool, name: str) -> Response:
    letters = runtime.call(
        round_letters.round_letters,
        round_id=round_id,
        base_url=request.host_url,
        unanswered_only=unanswered,
    )
    return Response(
        letters.pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}-{letters.issued.round.id[:8]}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@rounds.post("/rounds/<round_id>/letters")
def round_letters_pdf(round_id: str) -> Any:
    return _pdf(round_id=round_id, unanswered=False, name="brev")


@rounds.post("/rounds/<round_id>/reminders")
def round_reminders_pdf(round_id: str) -> Any:
    return _pdf(round_id=round_id, unanswered=True, name="purring")


@rounds.post("/rounds/<round_id>/close")
def round_close(round_id: str) -> Any:
    location = runtime.submit(
        round_service.close_round,
        answer=lambda view: url_for("rounds.round_page", round_id=view.id),
        round_id=round_id,
    )
    flash(_("The round is closed: its links no longer work."))
    return redirect(location)
