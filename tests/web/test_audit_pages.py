"""The audit pages through Flask's test client, on SQLite and PostgreSQL: consents as of an
instant with names beside IDs, the publication log, verification, the access report; only
auditors and admins see them, every view of people is recorded as on the command line, and
hostile names are shown as text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from tests.web.conftest import HOSTILE, log_in, token

PAGES = ("/audit", "/audit/consents", "/audit/publications", "/audit/verify")


def _queries(engine: Engine, view: str) -> list[dict[str, Any]]:
    """The IDs of every `audit.query` event of this view, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT object_ids, payload FROM audit_events"
                " WHERE action = 'audit.query' ORDER BY seq"
            )
        ).all()
    return [json.loads(ids) for ids, payload in rows if json.loads(payload)["view"] == view]


def _page(client: FlaskClient, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, path
    return answer.get_data(as_text=True)


@pytest.mark.parametrize("login", ["aud", "ada"])
def test_auditors_and_admins_find_the_audit_pages_from_the_menu(
    client: FlaskClient, login: str
) -> None:
    log_in(client, login)
    assert 'href="/audit"' in _page(client, "/")
    for path in PAGES:
        _page(client, path)


@pytest.mark.parametrize("login", ["rita", "otto"])
def test_a_registrar_sees_no_audit_page_and_no_access_report(
    client: FlaskClient, staff: dict[str, str], login: str
) -> None:
    log_in(client, login)
    assert 'href="/audit"' not in _page(client, "/")
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    assert client.get("/audit/consents?unit=bhg&date=2026-11-23").status_code == 403
    assert client.post("/audit/verify", data={"csrf_token": token(client)}).status_code == 403
    for person in ("emma", "per"):  # their own unit's person and another's
        assert client.get(f"/people/{staff[person]}/access-report").status_code == 403
    assert client.get(f"/people/{staff['emma']}/history").status_code == 403


def test_consents_as_of_now_name_each_person_and_consenter_beside_the_id(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "aud")
    form = _page(client, "/audit/consents")
    assert 'value="2026-11-23"' in form  # today in Oslo, where the form starts
    assert _queries(engine, "consents") == []  # the empty form shows nobody
    page = _page(client, "/audit/consents?unit=bhg&purpose=facebook&date=2026-11-23&time=11:30")
    assert "Per 2026-11-23 11:30" in page
    emma = page.index(staff["emma"])
    assert "Emma Nordmann" in page[emma - 200 : emma]
    assert f'Kari Nordmann <span class="code">{staff["mor"]}</span>' in page
    assert "Ola Nordmann" in page
    assert "Per Blå" not in page  # another unit
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Hacker" in page
    assert HOSTILE not in page
    shown = _queries(engine, "consents")[-1]
    assert set(shown["subjects"]) == {staff["emma"], staff["hostile"]}
    names = _queries(engine, "names")[-1]["people"]
    assert set(names) == {staff["emma"], staff["hostile"], staff["mor"], staff["far"]}


def test_consents_before_anyone_was_registered_show_nobody(
    client: FlaskClient, engine: Engine
) -> None:
    log_in(client, "ada")
    page = _page(client, "/audit/consents?unit=bhg&date=2026-11-01")
    assert "Ingen var registrert i denne enheten da." in page
    assert _queries(engine, "consents")[-1]["subjects"] == []


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("unit=nowhere&date=2026-11-23", 400),
        ("unit=bhg&purpose=nothing&date=2026-11-23", 400),
        ("unit=bhg&date=23.11.2026", 400),
        ("unit=bhg&date=2026-11-23&time=25:00", 400),
        ("unit=bhg&date=2026-03-29&time=02:30", 400),  # skipped by summer time in Oslo
        ("unit=bhg&time=10:00", 400),
    ],
)
def test_a_wrong_question_about_consents_is_refused_plainly(
    client: FlaskClient, query: str, status: int
) -> None:
    log_in(client, "aud")
    answer = client.get("/audit/consents?" + query)
    assert answer.status_code == status
    assert "Traceback" not in answer.get_data(as_text=True)


def test_publications_show_the_release_the_people_in_it_and_its_take_down(
    client: FlaskClient, staff: dict[str, str], released: str, engine: Engine
) -> None:
    log_in(client, "aud")
    page = _page(client, "/audit/publications?purpose=facebook")
    assert "Publisert" in page
    assert f'Emma Nordmann <span class="code">{staff["emma"]}</span>' in page
    assert _queries(engine, "publications")[-1]["subjects"] == [staff["emma"]]
    assert _queries(engine, "names")[-1]["people"] == [staff["emma"]]
    later = _page(client, "/audit/publications?since=2030-01-01")
    assert "Ingenting er publisert eller stoppet." in later


def test_verify_is_posted_with_the_csrf_token_and_reports_an_intact_log(
    client: FlaskClient, engine: Engine
) -> None:
    log_in(client, "aud")
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
    assert client.post("/audit/verify", data={}).status_code == 403  # no CSRF token
    answer = client.post("/audit/verify", data={"csrf_token": token(client, "/audit/verify")})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Revisjonsloggen er intakt." in page
    assert f"{before} hendelser" in page
    with engine.connect() as conn:  # it changes nothing and records nothing
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == before
        assert conn.execute(text("SELECT count(*) FROM audit_checkpoints")).scalar_one() == 0


def test_verify_shows_where_a_changed_register_breaks(client: FlaskClient, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE units SET name = 'Endret bak ryggen' WHERE code = 'blaa'"))
    log_in(client, "ada")
    answer = client.post("/audit/verify", data={"csrf_token": token(client, "/audit/verify")})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Revisjonsloggen stemmer IKKE" in page
    assert "units" in page
    assert "Endret bak ryggen" not in page  # IDs and columns, never values


def test_the_access_report_is_served_as_its_own_page_and_recorded(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "aud")
    answer = client.get(f"/people/{staff['emma']}/access-report")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<h1>Innsyn: opplysninger om Emma Nordmann</h1>" in page
    assert "Kari Nordmann" in page
    assert "script-src" not in answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Cache-Control"] == "no-store"
    assert _queries(engine, "export")[-1] == {"subject": staff["emma"]}
    hostile = client.get(f"/people/{staff['hostile']}/access-report").get_data(as_text=True)
    assert HOSTILE not in hostile
    assert "&lt;script&gt;" in hostile


def test_a_person_asked_for_on_the_audit_page_leads_to_the_history_or_the_report(
    client: FlaskClient, staff: dict[str, str]
) -> None:
    log_in(client, "aud")
    emma = staff["emma"]
    history = client.get(f"/audit/person?person={emma}")
    assert history.headers["Location"] == f"/people/{emma}/history"
    report = client.get(f"/audit/person?person={emma}&show=report")
    assert report.headers["Location"] == f"/people/{emma}/access-report"
    assert client.get("/audit/person?person=").status_code == 400
    assert client.get("/audit/person?person=ffff").status_code == 302
    assert client.get("/people/ffff/history").status_code == 404
    assert "Emma Nordmann" in _page(client, f"/people/{emma}/history")


def test_an_auditor_cannot_post_changes_elsewhere(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "aud")
    with engine.connect() as conn:
        before = conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action <> 'audit.query'")
        ).scalar_one()
    csrf = token(client)
    posts = {
        f"/people/{staff['emma']}/consents": {
            **{"purpose": "yearbook", "by": staff["mor"], "decision": "grant"},
            "method": "paper",
        },
        f"/people/{staff['emma']}/leave": {},
        "/users/roles": {"login": "eve", "role": "admin"},
    }
    for path, fields in posts.items():
        answer = client.post(path, data={"csrf_token": csrf, "once": path, **fields})
        assert answer.status_code == 403, path
    with engine.connect() as conn:
        after = conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action <> 'audit.query'")
        ).scalar_one()
    assert after == before


def test_consents_come_a_page_at_a_time_by_name_and_each_page_records_its_people(
    client: FlaskClient, staff: dict[str, str], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("consentreg.services.staff_audit.CONSENTS_PAGE", 1)
    log_in(client, "aud")
    ask = "/audit/consents?unit=bhg&purpose=facebook&date=2026-11-23&time=11:30"
    first = _page(client, ask)
    assert "Side 1 av 2, 2 personer i alt" in first
    assert "Hacker" in first
    assert "Emma Nordmann" not in first
    assert _queries(engine, "consents")[-1]["subjects"] == [staff["hostile"]]
    second = _page(client, ask + "&page=2")
    assert "Emma Nordmann" in second
    assert "Hacker" not in second
    assert _queries(engine, "consents")[-1]["subjects"] == [staff["emma"]]
    assert client.get(ask + "&page=3").status_code == 400
