"""The guardians' pages (issue #21): /svar/<token>, no staff login. The token is the only key:
it opens one child (first name only) and one round's purposes. Every unknown token gets the same
page after the same delay, and an address that tried too many is refused for a while; a link
that no longer works says why, in bokmål. The forms carry the anonymous session's CSRF token
(sessions._check_csrf, before any route runs) and the page's state, so a form posted again
writes nothing. The pages are in bokmål only: they are written for guardians in Norway."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from consentreg.errors import (
    ConfigError,
    InvalidInputError,
    LinkChildLeftError,
    LinkExpiredError,
    LinkInvalidError,
    LinkRefusedError,
    LinkResponsibilityEndedError,
    LinkRevokedError,
    MailDeliveryError,
    NoticeRevisedError,
    StaleFormError,
)
from consentreg.services import round_answers, round_letters

from . import runtime

guardian = Blueprint("guardian", __name__)
ACTOR = "web-guardian"  # until the link is known; then the link itself acts (`link:<ID>`)
INVALID_DELAY_S = 1.0  # every unknown link is answered after this long, whatever it was

REFUSED = {
    LinkExpiredError: "Svarfristen for denne lenken er ute, eller runden er avsluttet."
    " Ta kontakt med barnehagen eller skolen hvis du vil svare eller endre svaret ditt.",
    LinkRevokedError: "Denne lenken er ikke lenger gyldig. Den er trukket tilbake, eller du har"
    " fått et nyere brev eller en nyere e-post med en ny lenke. Bruk den nyeste lenken.",
    LinkChildLeftError: "Barnet har sluttet, så det er ikke lenger noe å svare på her.",
    LinkResponsibilityEndedError: "Du svarer ikke lenger for dette barnet gjennom denne lenken"
    " (foreldreansvaret er endret, eller eleven har fylt 15 år og svarer selv).",
}


def _address() -> str:
    return request.remote_addr or "unknown"


def _wait_from(started: float) -> None:
    """Answer no sooner than the set delay after the request started, whatever was found."""
    delay = current_app.config.get("GUARDIAN_INVALID_DELAY_S", INVALID_DELAY_S)
    time.sleep(max(0.0, started + delay - time.monotonic()))


def _unknown(started: float) -> Any:
    """The one answer to every unknown token (and to an address that tried too many)."""
    runtime.call_anonymous(round_answers.note_invalid_link, actor=ACTOR, address=_address())
    _wait_from(started)
    return render_template(
        "guardian_message.html",
        title="Lenken virker ikke",
        text=(
            "Vi finner ikke denne lenken. Sjekk at du har skrevet den av riktig, eller bruk"
            " QR-koden i brevet."
        ),
    ), 404


def _throttled(started: float) -> Any | None:
    if runtime.call_anonymous(round_answers.link_throttled, actor=ACTOR, address=_address()):
        _wait_from(started)
        return render_template(
            "guardian_message.html",
            title="For mange forsøk",
            text=(
                "Det er prøvd for mange lenker som ikke finnes fra denne adressen. Vent et kvarter"
                " og prøv igjen."
            ),
        ), 429
    return None


def _refused(exc: LinkRefusedError) -> Any:
    text = next(
        (t for kind, t in REFUSED.items() if isinstance(exc, kind)), REFUSED[LinkExpiredError]
    )
    return render_template(
        "guardian_message.html", title="Lenken virker ikke lenger", text=text
    ), 410


def _through_link(view: Callable[..., Any]) -> Callable[..., Any]:
    """A page reached through a link: throttled per address first; an unknown link gets the one
    slow answer, a link that no longer works says why."""

    @functools.wraps(view)
    def guarded(token: str, **kwargs: Any) -> Any:
        started = time.monotonic()
        blocked = _throttled(started)
        if blocked is not None:
            return blocked
        try:
            return view(token, **kwargs)
        except LinkInvalidError:
            return _unknown(started)
        except LinkRefusedError as exc:
            return _refused(exc)

    return guarded


def _smtp() -> round_letters.SmtpSettings | None:
    """The SMTP server for receipts, when the environment configures one."""
    try:
        return round_letters.smtp_settings(os.environ)
    except ConfigError:
        return None


def _page(token: str, **extra: Any) -> Any:
    found = runtime.call_anonymous(round_answers.open_link, actor=ACTOR, token=token)
    return render_template(
        "guardian_answer.html", page=found, token=token, mail=_smtp() is not None, **extra
    )


@guardian.get("/svar/<token>")
@_through_link
def answer_page(token: str) -> Any:
    return _page(token)


@guardian.post("/svar/<token>")
@_through_link
def answer_post(token: str) -> Any:
    form = request.form
    answers = {k[len("svar-") :]: v for k, v in form.items() if k.startswith("svar-")}
    versions = {k[len("versjon-") :]: v for k, v in form.items() if k.startswith("versjon-")}
    try:
        runtime.call_anonymous(
            round_answers.answer_link,
            actor=ACTOR,
            token=token,
            answers=answers,
            versions=versions,
            state=form.get("state", ""),
        )
    except NoticeRevisedError:
        problem = (
            "Teksten om ett eller flere formål er endret etter at du åpnet siden. Les den nye"
            " teksten og svar på nytt. Ingenting er lagret ennå."
        )
        return _page(token, problem=problem), 409
    except StaleFormError:
        return _page(
            token,
            problem=(
                "Dette skjemaet er allerede sendt inn, og svaret er lagret. Her er svarene dine nå."
                " Du kan endre dem og sende på nytt."
            ),
        ), 409
    except InvalidInputError:
        return _page(
            token,
            problem="Svar ja eller nei på hvert formål. Ingenting er lagret ennå.",
            chosen=answers,
        ), 400
    return redirect(url_for("guardian.receipt", token=token, **_mailed(token)), 303)


def _mailed(token: str) -> dict[str, Any]:
    """Send the receipt by e-mail when asked for and a server is configured; what the receipt
    page should say about it."""
    address, smtp = request.form.get("epost", "").strip(), _smtp()
    if not address or smtp is None:
        return {}
    try:
        runtime.call_anonymous(
            round_letters.send_receipt,
            actor=ACTOR,
            token=token,
            address=address,
            smtp=smtp,
            base_url=request.host_url,
        )
    except (MailDeliveryError, InvalidInputError):
        return {"epost": "feil"}
    return {"epost": "sendt"}


@guardian.post("/svar/<token>/ny-lenke")
@_through_link
def new_link(token: str) -> Any:
    """The guardian's own request for a new link: the old one stops working at once."""
    fresh = runtime.call_anonymous(round_answers.replace_link, actor=ACTOR, token=token)
    url = url_for("guardian.answer_page", token=fresh, _external=True)
    return render_template("guardian_new_link.html", url=url)


@guardian.get("/svar/<token>/kvittering")
@_through_link
def receipt(token: str) -> Any:
    found = runtime.call_anonymous(round_answers.open_link, actor=ACTOR, token=token)
    mailed = request.args.get("epost")
    return render_template("guardian_receipt.html", page=found, token=token, mailed=mailed)
