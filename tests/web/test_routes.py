"""The staff web application through Flask's test client, on SQLite and PostgreSQL: logging in
and out, throttling, expired and ended sessions, CSRF, another unit's person, hostile names,
security headers, and a consent recorded from the form."""

from __future__ import annotations

import json
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select, text

from consentreg.db.models import ConsentEvent, LoginFailure
from consentreg.services import access, accounts
from consentreg.services.audit.verify import verify_log
from tests.conftest import ContextFactory
from tests.web.conftest import HOSTILE, PASSWORD, Clock, form_of, log_in, token


def _events(engine: Engine, action: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT object_ids, payload FROM audit_events WHERE action = :a ORDER BY seq"),
            {"a": action},
        ).all()
    return [(str(ids), str(payload)) for ids, payload in rows]


def _consents(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ConsentEvent)).scalar_one())


def test_a_page_without_a_session_sends_to_the_login_page(client: FlaskClient) -> None:
    answer = client.get("/units/bhg")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=/units/bhg")


def test_logging_in_shows_the_units_one_may_see_and_logging_out_ends_it(
    client: FlaskClient,
) -> None:
    assert log_in(client, "rita") == 302
    start = client.get("/").get_data(as_text=True)
    assert "Solsikken barnehage" in start
    assert "Blåklokka" not in start  # another unit's registrar's
    assert 'lang="nb"' in start
    assert "Dine enheter" in start
    client.post("/logout", data={"csrf_token": token(client)})
    assert client.get("/").status_code == 302


def test_a_wrong_password_is_refused_with_the_same_words_as_an_unknown_login(
    client: FlaskClient,
) -> None:
    wrong = client.get("/login")
    assert log_in(client, "rita", "feil-passord-igjen") == 401
    assert log_in(client, "nobody", PASSWORD) == 401
    answer = client.post("/login", data={"login": "rita", "password": "x", "csrf_token": "no"})
    assert answer.status_code == 403  # the login form has its token too
    assert wrong.status_code == 200
    assert client.get("/").status_code == 302


def test_after_five_failures_even_the_right_password_is_refused_until_the_window_passes(
    client: FlaskClient, clock: Clock, engine: Engine
) -> None:
    for _ in range(accounts.FAILURES_PER_LOGIN):
        assert log_in(client, "rita", "gjetting-nummer-x") == 401
    refused = client.post(
        "/login",
        data={"login": "rita", "password": PASSWORD, "csrf_token": token(client, "/login")},
    )
    assert refused.status_code == 429
    assert "For mange mislykkede forsøk" in refused.get_data(as_text=True)
    assert log_in(client, "ada") == 302  # another login from the same address still may
    with engine.connect() as conn:
        stored = conn.execute(select(LoginFailure.login_key, LoginFailure.address_key)).all()
    assert stored
    assert all("rita" not in k and "127.0.0.1" not in a for k, a in stored)
    clock.advance(accounts.THROTTLE_WINDOW + timedelta(seconds=1))
    other = client.application.test_client()
    assert log_in(other, "rita") == 302


def test_an_idle_session_expires_and_so_does_an_old_one(client: FlaskClient, clock: Clock) -> None:
    log_in(client, "rita")
    clock.advance(timedelta(minutes=29))
    assert client.get("/").status_code == 200  # used: the idle time starts again
    clock.advance(timedelta(minutes=31))
    answer = client.get("/")
    assert answer.status_code == 302
    assert "expired=1" in answer.headers["Location"]
    log_in(client, "rita")
    for _ in range(25):  # used every 25 minutes, but older than ten hours in the end
        clock.advance(timedelta(minutes=25))
        client.get("/")
    assert client.get("/").status_code == 302


def test_logging_out_everywhere_ends_the_sessions_of_other_browsers(
    client: FlaskClient, engine: Engine
) -> None:
    log_in(client, "rita")
    other = client.application.test_client()
    log_in(other, "rita")
    assert other.get("/").status_code == 200
    client.post("/logout-everywhere", data={"csrf_token": token(client)})
    assert other.get("/").status_code == 302
    assert len(_events(engine, "user.logout_all")) == 1


def test_a_removed_role_ends_the_session_at_its_next_request(
    client: FlaskClient, unit_of_work: ContextFactory
) -> None:
    log_in(client, "rita")
    with unit_of_work(actor="ada") as ctx:
        access.remove_user(ctx, login="rita")
    assert client.get("/").status_code == 302


def test_a_post_without_its_csrf_token_is_refused_and_writes_nothing(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    before = _consents(engine)
    form = {
        "purpose": "yearbook",
        "by": staff["mor"],
        "decision": "grant",
        "method": "paper",
    }
    path = f"/people/{staff['emma']}/consents"
    assert client.post(path, data=form).status_code == 403
    assert client.post(path, data={**form, "csrf_token": "forged"}).status_code == 403
    crossing = client.post(
        path, data={**form, "csrf_token": token(client)}, headers={"Origin": "https://evil.example"}
    )
    assert crossing.status_code == 403
    assert _consents(engine) == before


def test_a_registrar_asking_for_another_units_person_by_id_is_refused_and_shown_nothing(
    client: FlaskClient, staff: dict[str, str]
) -> None:
    log_in(client, "rita")
    for path in (
        f"/people/{staff['per']}",
        f"/people/{staff['per']}/consents/new",
        "/units/blaa",
    ):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "Per Blå" not in answer.get_data(as_text=True)
    assert client.get("/people/" + "0" * 32).status_code == 404


def test_a_hostile_name_is_shown_as_text(client: FlaskClient, staff: dict[str, str]) -> None:
    log_in(client, "rita")
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; Hacker"
    for path in ("/units/bhg", f"/people/{staff['hostile']}"):
        page = client.get(path).get_data(as_text=True)
        assert escaped in page, path
        assert "<script" not in page
        assert HOSTILE not in page


def test_every_answer_carries_the_security_headers(client: FlaskClient) -> None:
    for path in ("/login", "/static/style.css", "/nowhere"):
        with client.get(path) as answer:
            headers = answer.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"
    log_in(client, "rita")
    page = client.get("/units/bhg")
    assert page.headers["Cache-Control"] == "no-store"
    cookie = page.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


def test_the_unit_overview_explains_why_not_and_is_recorded_as_a_view(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    page = client.get("/units/bhg").get_data(as_text=True)
    assert "Emma Nordmann" in page
    assert "Kan publiseres" in page
    assert "En forelder eller verge med foreldreansvar har ikke samtykket." in page  # yearbook
    ((ids, payload),) = _events(engine, "audit.query")[-1:]
    assert json.loads(payload)["view"] == "unit_overview"
    assert set(json.loads(ids)["subjects"]) == {staff["emma"], staff["hostile"]}
    assert "Nordmann" not in ids + payload


def test_the_person_page_shows_standing_guardians_and_consents_and_is_recorded(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "aud")
    page = client.get(f"/people/{staff['emma']}").get_data(as_text=True)
    assert "Kari Nordmann" in page
    assert "Ola Nordmann" in page
    assert "Registrer samtykke" not in page  # an auditor records nothing
    ids, payload = _events(engine, "audit.query")[-1]
    assert json.loads(payload) == {"view": "person"}
    assert json.loads(ids)["subject"] == staff["emma"]
    assert client.get(f"/people/{staff['emma']}/consents/new").status_code == 403


def test_a_consent_recorded_from_the_form_with_a_scan_counts_and_the_log_verifies(
    client: FlaskClient, staff: dict[str, str], engine: Engine, unit_of_work: ContextFactory
) -> None:
    log_in(client, "rita")
    form_page = client.get(f"/people/{staff['hostile']}/consents/new").get_data(as_text=True)
    assert "&lt;script&gt;" in form_page
    scan = b"%PDF-1.4\n% a signed form\n"
    path = f"/people/{staff['hostile']}/consents"
    answer = client.post(
        path,
        data={
            **form_of(client, f"/people/{staff['hostile']}/consents/new", path),
            "purpose": "facebook",
            "by": staff["hostile"],
            "decision": "grant",
            "method": "paper",
            "given": "",
            "evidence": (__import__("io").BytesIO(scan), "skjema.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Svaret er registrert" in page
    with unit_of_work(actor="ada") as ctx:
        assert verify_log(ctx).ok


def test_a_bad_upload_or_a_wrong_field_is_a_clear_400_and_nothing_is_written(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    before = _consents(engine)
    path = f"/people/{staff['emma']}/consents"
    fields = form_of(client, f"/people/{staff['emma']}/consents/new", path)
    base = {"purpose": "facebook", "by": staff["mor"], "decision": "grant", "method": "paper"}
    base |= {"version": fields["version"]}
    not_a_scan = client.post(
        path,
        data={
            **base,
            "csrf_token": token(client),
            "once": "upload-1",
            "evidence": (__import__("io").BytesIO(b"MZ\x90\x00"), "virus.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert not_a_scan.status_code == 400
    assert "PDF-, JPEG- eller PNG-fil" in not_a_scan.get_data(as_text=True)
    bad_date = client.post(
        path, data={**base, "csrf_token": token(client), "once": "d", "given": "i morgen"}
    )
    assert bad_date.status_code == 400
    stranger = client.post(
        path, data={**base, "csrf_token": token(client), "once": "s", "by": staff["per"]}
    )
    assert stranger.status_code == 400
    assert _consents(engine) == before


def test_the_password_event_carries_a_digest_and_never_the_hash(
    engine: Engine, staff: dict[str, str], unit_of_work: ContextFactory
) -> None:
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM user_credentials")).scalars().all()
    assert stored
    assert all(h.startswith("$argon2id$") for h in stored)
    events = _events(engine, "user.password")
    assert len(events) == 4
    assert not any(h in ids + payload for h in stored for ids, payload in events)
    assert all("password_hash_sha256" in payload for _, payload in events)
    with unit_of_work(actor="ada") as ctx:
        accounts.set_password(ctx, login="rita", password="et-nytt-passord-her")
    with unit_of_work(actor="ada") as ctx:
        assert verify_log(ctx).ok
