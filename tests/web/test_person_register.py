"""Registering a person from a unit's page, through Flask's test client on SQLite and
PostgreSQL: a child with both guardians in one form, a sibling's parent linked rather than
doubled, a refused guardian leaving nothing behind, a double post, another unit, a registrar's
own unit only, a hostile name shown as text."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select

from consentreg.db.models import Guardianship, Person
from consentreg.services import people
from tests.conftest import ContextFactory
from tests.web.conftest import HOSTILE, form_of, log_in

NEW = "/units/bhg/people/new"
POST = "/units/bhg/people"


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _form(client: FlaskClient, **fields: str) -> dict[str, str]:
    return {**form_of(client, NEW, POST), "kind": "child", **fields}


def test_a_registrar_registers_a_child_with_both_guardians_from_one_form(
    client: FlaskClient, engine: Engine, unit_of_work: ContextFactory
) -> None:
    log_in(client, "rita")
    unit_page = client.get("/units/bhg").get_data(as_text=True)
    assert NEW in unit_page  # offered where a kindergarten leader starts
    answer = client.post(
        POST,
        data=_form(
            client,
            name="Sofie Berg",
            born="2022-02-02",
            ref="bhg-77",
            guardian1_name="Lise Berg",
            guardian1_born="1990-01-01",
            guardian2_name="Tor Berg",
            guardian2_born="1989-09-09",
        ),
    )
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Sofie Berg" in page
    assert "Personen er registrert." in page
    assert "Lise Berg" in page
    assert "Tor Berg" in page
    with unit_of_work(actor="ada") as ctx:
        sofie = people.show_person(ctx, "ref:bhg-77")
        guardians = sorted(people.show_person(ctx, g.person_id).name for g in sofie.guardians)
    assert sofie.unit == "bhg"
    assert guardians == ["Lise Berg", "Tor Berg"]


def test_a_siblings_parent_is_linked_not_registered_again(
    client: FlaskClient, engine: Engine, staff: dict[str, str]
) -> None:
    log_in(client, "rita")
    before = _count(engine, Person)
    answer = client.post(
        POST,
        data=_form(
            client,
            name="Lillebror Nordmann",
            born="2023-04-04",
            guardian1_name="Kari Nordmann",  # Emma's mother, born 1988-05-01
            guardian1_born="1988-05-01",
        ),
    )
    assert answer.status_code == 302
    assert _count(engine, Person) == before + 1  # the child only
    with engine.connect() as conn:
        mothers_children = conn.execute(
            select(func.count())
            .select_from(Guardianship)
            .where(Guardianship.guardian_id == staff["mor"])
        ).scalar_one()
    assert mothers_children == 2


def test_bad_input_says_what_is_wrong_in_norwegian_and_registers_nobody(
    client: FlaskClient, engine: Engine
) -> None:
    log_in(client, "rita")
    before = (_count(engine, Person), _count(engine, Guardianship))
    for fields in (
        {"name": "Uten Dato", "born": ""},
        {"name": "Ny Person", "born": "2022-13-40"},
        {"name": "Ny Person", "born": "2022-02-02", "guardian1_name": "Bare Navn"},
        {"name": "Emma Nordmann", "born": "2021-03-14"},  # a likely duplicate
    ):
        answer = client.post(POST, data=_form(client, **fields))
        assert answer.status_code in (400, 409), fields
        assert "<html" in answer.get_data(as_text=True).lower()
    assert (_count(engine, Person), _count(engine, Guardianship)) == before
    # the library's own message, in the page's language (the command line's catalog)
    missing = client.post(POST, data=_form(client, name="Uten Dato", born=""))
    assert "fødselsdato må oppgis" in missing.get_data(as_text=True)
    english = client.post(
        POST,
        data=_form(client, name="Uten Dato", born=""),
        headers={"Accept-Language": "en"},
    )
    assert "born is required" in english.get_data(as_text=True)


def test_a_form_posted_twice_registers_once(client: FlaskClient, engine: Engine) -> None:
    log_in(client, "rita")
    form = _form(client, name="Dobbel Klikk", born="2022-05-05")
    before = _count(engine, Person)
    first, second = client.post(POST, data=form), client.post(POST, data=form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(engine, Person) == before + 1


def test_only_a_registrar_of_the_unit_or_an_admin_may_register(app: Flask) -> None:
    other, auditor = app.test_client(), app.test_client()
    log_in(other, "otto")  # registrar of blaa
    assert other.get(NEW).status_code == 403
    log_in(auditor, "aud")
    assert auditor.get(NEW).status_code == 403
    assert NEW not in auditor.get("/units/bhg").get_data(as_text=True)


def test_a_hostile_name_is_registered_and_shown_as_text(client: FlaskClient) -> None:
    log_in(client, "ada")
    answer = client.post(POST, data=_form(client, name="<b>Fet</b> Navnesen", born="2022-06-06"))
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "&lt;b&gt;Fet&lt;/b&gt; Navnesen" in page
    assert "<b>Fet</b>" not in page
    assert HOSTILE not in page
