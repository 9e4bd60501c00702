"""The guardians' pages (issue #21) through Flask's test client: what a link opens and shows,
an answer and its receipt, withdrawal through the same link reaching the staff's take-down
list, and every hostile or stale use refused with nothing written; and the staff's round pages."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from consentreg.db.models import ConsentEvent
from consentreg.services import round_answers, rounds
from tests.conftest import ContextFactory
from tests.services.test_round_letters import Inbox
from tests.services.test_round_letters import smtp as smtp_server
from tests.web.conftest import Clock, csrf_of, log_in

DELAY = 0.2
smtp = smtp_server  # the fixture: a local SMTP server and what it received


@pytest.fixture
def links(
    app: Flask, unit_of_work: ContextFactory, staff: dict[str, str], clock: Clock
) -> dict[str, str]:
    """A round for bhg (facebook, yearbook) with letters issued: the tokens by recipient."""
    app.config["GUARDIAN_INVALID_DELAY_S"] = DELAY
    with unit_of_work(actor="rita", now=clock.at) as ctx:
        started = rounds.start_round(ctx, unit="bhg", purposes=["facebook", "yearbook"])
        issued = rounds.issue_links(ctx, round_id=started.id)
    found = {"round": started.id}
    for link in issued.links:
        for name in ("mor", "far"):
            if link.recipient_id == staff[name]:
                found[name] = link.token
    return found


def consent_events(unit_of_work: ContextFactory) -> int:
    with unit_of_work(writer=False) as ctx:
        return ctx.session.scalar(select(func.count()).select_from(ConsentEvent)) or 0


def form_for(client: FlaskClient, token: str, **answers: str) -> dict[str, str]:
    html = client.get(f"/svar/{token}").get_data(as_text=True)
    import re

    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    fields.update({f"svar-{code}": value for code, value in answers.items()})
    return fields


def test_a_link_opens_the_childs_first_name_and_each_purposes_full_text_without_login(
    client: FlaskClient, links: dict[str, str]
) -> None:
    answer = client.get(f"/svar/{links['mor']}")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "Emma" in html
    assert "Nordmann" not in html  # first name only
    assert "Vi publiserer bilder på kommunens Facebook-side" in html
    assert 'lang="nb"' in html
    assert "Logg ut" not in html
    assert "script" not in answer.headers["Content-Security-Policy"]
    assert answer.headers["Cache-Control"] == "no-store"


def test_an_answer_is_saved_and_the_receipt_shows_it(
    client: FlaskClient, links: dict[str, str], unit_of_work: ContextFactory
) -> None:
    before = consent_events(unit_of_work)
    form = form_for(client, links["mor"], facebook="yes", yearbook="no")
    answer = client.post(f"/svar/{links['mor']}", data=form)
    assert answer.status_code == 303
    receipt = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "svaret ditt er lagret" in receipt
    assert "Yearbook:</strong> Nei" in receipt
    # facebook was granted already on paper, so only yearbook's refusal is new
    assert consent_events(unit_of_work) == before + 1


def test_a_form_posted_twice_writes_once_and_says_so(
    client: FlaskClient, links: dict[str, str], unit_of_work: ContextFactory
) -> None:
    form = form_for(client, links["mor"], facebook="no", yearbook="yes")
    assert client.post(f"/svar/{links['mor']}", data=form).status_code == 303
    after_first = consent_events(unit_of_work)
    again = client.post(f"/svar/{links['mor']}", data=form)
    assert again.status_code == 409
    assert "allerede sendt inn" in again.get_data(as_text=True)
    assert consent_events(unit_of_work) == after_first


def test_a_post_without_the_csrf_token_or_from_another_site_is_refused(
    client: FlaskClient, links: dict[str, str], unit_of_work: ContextFactory
) -> None:
    before = consent_events(unit_of_work)
    form = form_for(client, links["mor"], facebook="yes", yearbook="yes")
    missing = {k: v for k, v in form.items() if k != "csrf_token"}
    assert client.post(f"/svar/{links['mor']}", data=missing).status_code == 403
    elsewhere = client.post(
        f"/svar/{links['mor']}", data=form, headers={"Origin": "https://evil.example"}
    )
    assert elsewhere.status_code == 403
    assert consent_events(unit_of_work) == before


def test_a_missing_answer_is_a_clear_message_and_nothing_is_saved(
    client: FlaskClient, links: dict[str, str], unit_of_work: ContextFactory
) -> None:
    before = consent_events(unit_of_work)
    answer = client.post(
        f"/svar/{links['mor']}", data=form_for(client, links["mor"], facebook="no")
    )
    assert answer.status_code == 400
    assert "Svar ja eller nei på hvert formål" in answer.get_data(as_text=True)
    assert consent_events(unit_of_work) == before


def test_every_unknown_link_gets_the_same_page_after_the_same_delay(
    client: FlaskClient, links: dict[str, str]
) -> None:
    bodies = set()
    for token in ("x", links["mor"][:-2] + "zz", "a" * 300, "%C3%B8"):
        started = time.monotonic()
        answer = client.get(f"/svar/{token}")
        assert time.monotonic() - started >= DELAY
        assert answer.status_code == 404
        bodies.add(answer.get_data(as_text=True))
    assert len(bodies) == 1


def test_an_address_that_tries_too_many_links_is_refused_for_a_while(
    client: FlaskClient, links: dict[str, str], clock: Clock, app: Flask
) -> None:
    app.config["GUARDIAN_INVALID_DELAY_S"] = 0
    for i in range(round_answers.INVALID_PER_ADDRESS):
        assert client.get(f"/svar/feil{i}").status_code == 404
    assert client.get(f"/svar/{links['mor']}").status_code == 429  # even a real one
    clock.advance(timedelta(minutes=16))
    assert client.get(f"/svar/{links['mor']}").status_code == 200


def test_a_revoked_or_replaced_link_says_so(
    client: FlaskClient, links: dict[str, str], unit_of_work: ContextFactory, clock: Clock
) -> None:
    with unit_of_work(actor="rita", now=clock.at) as ctx:
        rounds.issue_links(ctx, round_id=links["round"])  # new letters replace the old
    answer = client.get(f"/svar/{links['mor']}")
    assert answer.status_code == 410
    assert "ikke lenger gyldig" in answer.get_data(as_text=True)


def test_a_withdrawal_through_the_link_puts_the_release_on_the_take_down_list(
    client: FlaskClient, links: dict[str, str], released: str, app: Flask
) -> None:
    form = form_for(client, links["far"], facebook="no", yearbook="no")
    assert client.post(f"/svar/{links['far']}", data=form).status_code == 303
    staff = app.test_client()
    assert log_in(staff, "ada") == 302
    worklist = staff.get("/takedown").get_data(as_text=True)
    assert released[:8] in worklist


def test_a_registrar_starts_a_round_follows_it_and_downloads_its_letters(
    client: FlaskClient,
    staff: dict[str, str],  # noqa: ARG001
) -> None:
    assert log_in(client, "rita") == 302
    page = client.get("/rounds").get_data(as_text=True)
    import re

    once = re.search(r'name="once" value="([^"]+)"', page)
    assert once
    started = client.post(
        "/rounds",
        data={
            "csrf_token": csrf_of(page),
            "once": once.group(1),
            "unit": "bhg",
            "purpose": "facebook",
        },
    )
    assert started.status_code == 302
    status = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "Ikke svart" in status
    assert "Emma Nordmann" in status
    pdf = client.post(
        started.headers["Location"] + "/letters", data={"csrf_token": csrf_of(status)}
    )
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")


def test_a_registrar_of_another_unit_may_not_start_a_round_there(
    client: FlaskClient,
    staff: dict[str, str],  # noqa: ARG001
) -> None:
    assert log_in(client, "otto") == 302
    page = client.get("/rounds").get_data(as_text=True)
    import re

    once = re.search(r'name="once" value="([^"]+)"', page)
    assert once
    answer = client.post(
        "/rounds",
        data={
            "csrf_token": csrf_of(page),
            "once": once.group(1),
            "unit": "bhg",
            "purpose": "facebook",
        },
    )
    assert answer.status_code == 403


def test_a_guardian_gets_a_new_link_and_the_old_one_stops(
    client: FlaskClient, links: dict[str, str]
) -> None:
    html = client.get(f"/svar/{links['mor']}/kvittering").get_data(as_text=True)
    answer = client.post(f"/svar/{links['mor']}/ny-lenke", data={"csrf_token": csrf_of(html)})
    assert answer.status_code == 200
    import re

    found = re.search(
        r'href="http://localhost/svar/([A-Za-z0-9_-]{32})"', answer.get_data(as_text=True)
    )
    assert found
    assert client.get(f"/svar/{links['mor']}").status_code == 410
    assert client.get(f"/svar/{found.group(1)}").status_code == 200


def test_a_receipt_by_e_mail_when_a_server_is_configured(
    client: FlaskClient,
    links: dict[str, str],
    smtp: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert 'name="epost"' not in client.get(f"/svar/{links['mor']}").get_data(as_text=True)
    inbox, port = smtp
    for name, value in {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "FROM": "bhg@example.no",
        "SECURITY": "none",
    }.items():
        monkeypatch.setenv(f"CONSENTREG_SMTP_{name}", value)
    form = form_for(client, links["mor"], facebook="yes", yearbook="no")
    assert "epost" not in form  # not hidden: a field the guardian fills in
    form["epost"] = "kari@example.no"
    answer = client.post(f"/svar/{links['mor']}", data=form)
    assert answer.status_code == 303
    receipt = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Kvitteringen er sendt på e-post" in receipt
    assert [m["To"] for m in inbox.messages] == ["kari@example.no"]
    body = inbox.messages[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Yearbook: Nei" in body
    assert "Nordmann" not in body


def test_the_renewal_round_starts_in_one_step_from_the_rounds_page(
    client: FlaskClient,
    staff: dict[str, str],  # noqa: ARG001
) -> None:
    assert log_in(client, "rita") == 302
    page = client.get("/rounds").get_data(as_text=True)
    assert "slutter senest" in page
    assert ": 2." in page  # the two guardians' facebook grants end by 31 July
    import re

    forms = re.findall(r'name="once" value="([^"]+)"', page)
    answer = client.post(
        "/rounds/renewal", data={"csrf_token": csrf_of(page), "once": forms[-1], "unit": "bhg"}
    )
    assert answer.status_code == 302
    status = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "facebook" in status
    assert "yearbook" not in status


def test_the_access_log_never_holds_a_link_token() -> None:
    from datetime import timedelta as span
    from types import SimpleNamespace

    from gunicorn.config import Config

    from web.access_log import MaskedLogger

    token = "SGQD6DbZhBbO1n0RKlAgiCXt4i6dhOqQ"
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/svar/{token}",
        "PATH_INFO": f"/svar/{token}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://samtykke.example.no/svar/{token}",
    }
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    atoms = MaskedLogger(Config()).atoms(
        SimpleNamespace(status="303 SEE OTHER", sent=0, headers=[]),
        request,
        environ,
        span(seconds=1),
    )
    assert token not in repr(atoms)
    assert atoms["r"] == "POST /svar/… HTTP/1.1"
