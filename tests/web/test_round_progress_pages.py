"""How far a consent round has come, on a unit's overview, and the renewal list (issue #21),
through Flask's test client on SQLite and PostgreSQL: per child of the page answered / partly
answered / not answered with a link to the round; the consents that end with whom they are about
and who gave them, names escaped, each page recorded as a view of the people it shows."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from consentreg.services import people, rounds, units
from tests import builders
from tests.conftest import ContextFactory
from tests.web.conftest import HOSTILE, Clock, hidden_fields, last_view, log_in

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; Hacker"


def _round(
    unit_of_work: ContextFactory, clock: Clock, unit: str = "bhg"
) -> tuple[str, dict[str, str]]:
    """A round for `unit` (yearbook) with letters issued: its ID and the tokens by recipient."""
    with unit_of_work(actor="ada", now=clock.at) as ctx:
        started = rounds.start_round(ctx, unit=unit, purposes=["yearbook"])
        issued = rounds.issue_links(ctx, round_id=started.id)
    return started.id, {link.recipient_id: link.token for link in issued.links}


def _answer(client: FlaskClient, token: str) -> None:
    html = client.get(f"/svar/{token}").get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    fields["svar-yearbook"] = "yes"
    assert client.post(f"/svar/{token}", data=fields).status_code == 303


def _row(html: str, name: str) -> str:
    found = re.search(
        r"<tr>\s*<th scope=\"row\"><a [^>]*>" + re.escape(name) + r"</a>.*?</tr>", html, re.DOTALL
    )
    assert found, name
    return found.group(0)


def test_the_overview_shows_how_far_an_open_round_has_come_for_each_child(
    app: Flask,
    client: FlaskClient,
    engine: Engine,
    staff: dict[str, str],
    unit_of_work: ContextFactory,
    clock: Clock,
) -> None:
    log_in(client, "rita")
    before = client.get("/units/bhg").get_data(as_text=True)
    assert "En samtykkerunde" not in before  # no round open: no summary
    assert "Samtykkerunde (" not in before  # and no column
    round_id, tokens = _round(unit_of_work, clock)
    _answer(app.test_client(), tokens[staff["mor"]])
    page = client.get("/units/bhg").get_data(as_text=True)
    assert "En samtykkerunde er åpen for Solsikken barnehage (yearbook)" in page
    assert "Av barna på denne siden: 0 har svart, 1 har delvis svart, 1 har ikke svart." in page
    assert f'href="/rounds/{round_id}"' in page
    assert '<th scope="col">Samtykkerunde (yearbook)</th>' in page
    assert "Delvis svart (1/2)" in _row(page, "Emma Nordmann")
    assert "Ikke svart (0/0)" in _row(page, ESCAPED)  # no guardian registered
    assert HOSTILE not in page
    ids, payload = last_view(engine)
    assert payload["rounds"] == [round_id]
    assert staff["emma"] in ids["subjects"]
    _answer(app.test_client(), tokens[staff["far"]])
    assert "Har svart (2/2)" in _row(
        client.get("/units/bhg").get_data(as_text=True), "Emma Nordmann"
    )


def test_a_round_of_a_unit_above_shows_on_the_overview_and_a_closed_one_does_not(
    client: FlaskClient,
    staff: dict[str, str],  # noqa: ARG001
    unit_of_work: ContextFactory,
    clock: Clock,
) -> None:
    with unit_of_work(actor="ada") as ctx:
        units.add_unit(ctx, code="gul", name="Gul gruppe", parent="bhg")
        builders.person(ctx, "Gro Gul", "2021-06-06", unit_code="gul")
        builders.person(ctx, "Voksen Gul", "1980-06-06", kind="staff", unit_code="gul")
    round_id, _ = _round(unit_of_work, clock)
    log_in(client, "ada")
    page = client.get("/units/gul").get_data(as_text=True)
    assert f'href="/rounds/{round_id}"' in page
    assert "Ikke svart (0/0)" in _row(page, "Gro Gul")
    assert "Ikke spurt" in _row(page, "Voksen Gul")  # not a child: not in the round
    with unit_of_work(actor="ada", now=clock.at) as ctx:
        rounds.close_round(ctx, round_id=round_id)
    assert "Samtykkerunde (" not in client.get("/units/gul").get_data(as_text=True)


def test_a_paged_overview_shows_the_progress_of_its_own_page_only(
    client: FlaskClient,
    engine: Engine,
    staff: dict[str, str],  # noqa: ARG001
    unit_of_work: ContextFactory,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("consentreg.services.staff.OVERVIEW_PAGE", 2)
    with unit_of_work(actor="ada") as ctx:
        builders.person(ctx, "Anna Aas", "2021-01-02", unit_code="bhg")
        builders.person(ctx, "Åse Ålvik", "2021-01-01", unit_code="bhg")
    _round(unit_of_work, clock)
    log_in(client, "rita")
    page = client.get("/units/bhg?page=2").get_data(as_text=True)
    assert "Av barna på denne siden: 0 har svart, 0 har delvis svart, 2 har ikke svart." in page
    assert "Emma Nordmann" in page
    ids, _ = last_view(engine)
    assert len(ids["subjects"]) == 2


def test_the_renewal_list_names_whom_each_ending_consent_is_about_and_who_gave_it(
    client: FlaskClient, engine: Engine, staff: dict[str, str], unit_of_work: ContextFactory
) -> None:
    with unit_of_work(actor="ada") as ctx:
        guardian = builders.person(ctx, HOSTILE + " Verge", "1980-01-01", kind="adult")
        people.add_guardian(ctx, child=staff["hostile"], guardian=guardian)
        builders.grant(ctx, staff["hostile"], guardian, purpose_code="yearbook")
    log_in(client, "rita")
    answer = client.get("/rounds/renewal")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "Samtykker som slutter senest" in page
    assert '<th scope="col">Gitt av</th>' in page
    emma = _row(page, "Emma Nordmann")
    assert "facebook" in emma
    assert "Kari Nordmann" in page
    assert "Ola Nordmann" in page
    assert staff["mor"][:8] in page
    assert f"{ESCAPED} Verge" in page
    assert HOSTILE not in page
    ids, payload = last_view(engine)
    assert payload["view"] == "renewal"
    assert set(ids["subjects"]) == {staff["emma"], staff["hostile"]}
    assert set(ids["people"]) == {staff["mor"], staff["far"], guardian}


def test_the_renewal_list_shows_only_the_units_a_registrar_may_see(
    client: FlaskClient,
    staff: dict[str, str],  # noqa: ARG001
) -> None:
    log_in(client, "otto")
    page = client.get("/rounds/renewal").get_data(as_text=True)
    assert "Emma Nordmann" not in page
    assert "Ingen gjeldende samtykker slutter innen den dagen." in page
    assert client.get("/rounds/renewal?unit=bhg").status_code == 403


def test_the_renewal_list_comes_in_pages_and_starts_its_round(
    client: FlaskClient,
    staff: dict[str, str],  # noqa: ARG001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("consentreg.services.renewal.RENEWAL_PAGE", 1)
    log_in(client, "rita")
    first = client.get("/rounds/renewal?unit=bhg").get_data(as_text=True)
    assert "Side 1 av 2" in first
    assert 'rel="next"' in first
    assert client.get("/rounds/renewal?unit=bhg&page=3").status_code == 400
    start = first[first.index("Start fornyelsesrunden") :]  # the form after the list's filter
    form = hidden_fields(start, "/rounds/renewal")
    started = client.post("/rounds/renewal", data={**form, "unit": "bhg"})
    assert started.status_code == 302
    status = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "facebook" in status
    assert "yearbook" not in status  # only the purposes whose consents end
