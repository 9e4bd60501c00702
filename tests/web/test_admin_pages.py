"""The users page through Flask's test client, on SQLite and PostgreSQL: only an admin sees it;
roles added (a registrar with units) and removed, passwords set, each form acting once."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from tests.web.conftest import form_of, log_in, token

NEW_PASSWORD = "et-helt-nytt-passord"


def _actions(engine: Engine, action: str) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action = :a"), {"a": action}
        ).scalar_one()
    return int(found)


def test_only_an_admin_sees_the_users_page(client: FlaskClient) -> None:
    log_in(client, "rita")
    assert 'href="/users"' not in client.get("/").get_data(as_text=True)
    assert client.get("/users").status_code == 403
    client.post("/logout", data={"csrf_token": token(client)})
    log_in(client, "ada")
    assert 'href="/users"' in client.get("/").get_data(as_text=True)
    page = client.get("/users").get_data(as_text=True)
    for login in ("ada", "rita", "otto", "aud"):
        assert f"<td>{login}</td>" in page
    assert "registrator" in page


def test_an_admin_adds_a_registrar_for_a_unit_once_and_removes_the_role(
    client: FlaskClient, engine: Engine
) -> None:
    log_in(client, "ada")
    before = _actions(engine, "user.add")
    form = {**form_of(client, "/users", "/users/roles"), "login": "siri", "role": "registrar"}
    assert client.post("/users/roles", data=form).status_code == 400  # no unit
    form["unit"] = "bhg"
    first, second = client.post("/users/roles", data=form), client.post("/users/roles", data=form)
    assert (first.status_code, second.status_code) == (302, 302)
    assert _actions(engine, "user.add") == before + 1
    page = client.get("/users").get_data(as_text=True)
    assert "<td>siri</td>" in page
    assert "Rollen er gitt." in page
    remove = {**form_of(client, "/users", "/users/roles/remove"), "login": "siri"}
    remove["role"] = "registrar"
    assert client.post("/users/roles/remove", data=remove).status_code == 302
    assert "<td>siri</td>" not in client.get("/users").get_data(as_text=True)
    last = {**form_of(client, "/users", "/users/roles/remove"), "login": "ada", "role": "admin"}
    assert client.post("/users/roles/remove", data=last).status_code == 400


def test_a_password_set_on_the_page_works_and_ends_the_old_sessions(
    client: FlaskClient, engine: Engine
) -> None:
    rita = client.application.test_client()
    log_in(rita, "rita")
    log_in(client, "ada")
    form = {**form_of(client, "/users", "/users/password"), "login": "rita"}
    differ = client.post(
        "/users/password", data={**form, "password": NEW_PASSWORD, "repeated": NEW_PASSWORD + "x"}
    )
    assert differ.status_code == 400
    assert _actions(engine, "user.password_reset") == 0
    answer = client.post(
        "/users/password", data={**form, "password": NEW_PASSWORD, "repeated": NEW_PASSWORD}
    )
    assert answer.status_code == 302
    assert _actions(engine, "user.password_reset") == 1
    assert rita.get("/").status_code == 302  # logged out everywhere
    assert log_in(rita, "rita", NEW_PASSWORD) == 302
    assert rita.get("/").status_code == 200
