"""Roles, checked in the service layer on both engines: what each role may do, a registrar's
units (sub-units included), who sees whom, user management, and the GRANTs derived for
PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

import pytest
from PIL import Image

from consentreg.domain.model import EventKind
from consentreg.errors import InvalidInputError, NotFoundError, NotPermittedError
from consentreg.services import access, consents, people, photos, purposes, units
from consentreg.services.audit import views
from consentreg.services.publishing import gate
from consentreg.services.unit_of_work import Context
from tests.conftest import ContextFactory

NOTICE = "Vi publiserer bilder på nettsiden.\n"


@pytest.fixture
def register(unit_of_work: ContextFactory) -> dict[str, str]:
    """Units sol (with the group sol.blå) and måne, one child in each, a guardian, a purpose,
    and the users: admin "tester", registrar kari for sol, publisher per, auditor dpo."""
    ids: dict[str, str] = {}
    with unit_of_work() as ctx:
        access.add_user(ctx, login="tester", role="admin")
        units.add_unit(ctx, code="sol", name="Solsikken")
        units.add_unit(ctx, code="sol.bla", name="Blå gruppe", parent="sol")
        units.add_unit(ctx, code="mane", name="Månen")
        purposes.add_purpose(ctx, code="web", title="Nettsiden", notice_text=NOTICE)
        ids["sol_child"] = people.add_person(
            ctx, name="Emma Sæther", born=date(2021, 3, 1), unit="sol.bla"
        )
        ids["mane_child"] = people.add_person(
            ctx, name="Jonas Berg", born=date(2021, 4, 1), unit="mane"
        )
        ids["parent"] = people.add_person(
            ctx, name="Ingrid Sæther", born=date(1990, 1, 1), kind="adult"
        )
        access.add_user(ctx, login="kari", role="registrar", units=["sol"])
        access.add_user(ctx, login="per", role="publisher")
        access.add_user(ctx, login="dpo", role="auditor")
    return ids


def test_a_registrar_records_for_their_units_and_sub_units_only(
    unit_of_work: ContextFactory, register: dict[str, str]
) -> None:
    with unit_of_work(actor="kari") as ctx:
        people.add_guardian(ctx, child=register["sol_child"], guardian=register["parent"])
        consents.record_decision(
            ctx,
            subject=register["sol_child"],
            purpose="web",
            by=register["parent"],
            kind=EventKind.GRANT,
        )
        people.add_person(ctx, name="Ny Gutt", born=date(2022, 1, 1), unit="sol.bla")
    with (
        pytest.raises(NotPermittedError, match="user kari .* for unit mane"),
        unit_of_work(actor="kari") as ctx,
    ):
        people.add_person(ctx, name="Ny Jente", born=date(2022, 1, 1), unit="mane")
    with pytest.raises(NotPermittedError, match="for unit mane"), unit_of_work(actor="kari") as ctx:
        people.add_guardian(ctx, child=register["mane_child"], guardian=register["parent"])


def test_a_registrar_sees_the_people_of_their_units_and_guardians_not_others(
    unit_of_work: ContextFactory, register: dict[str, str]
) -> None:
    with unit_of_work(actor="kari", writer=False) as ctx:
        seen = {p.id for p in people.list_people(ctx)}
    assert seen == {register["sol_child"], register["parent"]}
    with (
        pytest.raises(NotPermittedError, match="may not see people of unit mane"),
        unit_of_work(actor="kari", writer=False) as ctx,
    ):
        people.show_person(ctx, register["mane_child"])
    with unit_of_work(actor="per", writer=False) as ctx:  # a publisher tags anyone
        assert len(people.list_people(ctx)) == 3


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [("tester", True), ("kari", False), ("per", True), ("dpo", False), ("stranger", False)],
)
def test_only_publishers_and_admins_check_photos(
    unit_of_work: ContextFactory, register: dict[str, str], actor: str, *, allowed: bool
) -> None:
    with unit_of_work(actor=actor, writer=False) as ctx:
        if allowed:
            assert gate.check(ctx, input_sha256="ab" * 32, purpose="web", at=ctx.now)
        else:
            with pytest.raises(NotPermittedError, match=f"user {actor} .*publish.check"):
                gate.check(ctx, input_sha256="ab" * 32, purpose="web", at=ctx.now)


def test_an_auditor_reads_everything_and_changes_nothing(
    unit_of_work: ContextFactory, register: dict[str, str]
) -> None:
    with unit_of_work(actor="dpo") as ctx:
        assert views.subject(ctx, register["mane_child"]).person["id"] == register["mane_child"]
        assert len(people.list_people(ctx)) == 3
    changes: list[Callable[[Context], object]] = [
        lambda ctx: people.add_person(ctx, name="X Y", born=date(2020, 1, 1)),
        lambda ctx: units.add_unit(ctx, code="ny", name="Ny"),
        lambda ctx: access.add_user(ctx, login="eve", role="admin"),
    ]
    for change in changes:
        with (
            pytest.raises(NotPermittedError, match="user dpo \\(role auditor\\)"),
            unit_of_work(actor="dpo") as ctx,
        ):
            change(ctx)


def test_nobody_but_an_admin_manages_users_and_the_last_admin_stays(
    unit_of_work: ContextFactory, register: dict[str, str]
) -> None:
    with (
        pytest.raises(NotPermittedError, match="it needs the role admin"),
        unit_of_work(actor="kari") as ctx,
    ):
        access.add_user(ctx, login="kari", role="admin")
    with pytest.raises(InvalidInputError, match="last admin"), unit_of_work() as ctx:
        access.remove_user(ctx, login="tester")
    with pytest.raises(InvalidInputError, match="--unit"), unit_of_work() as ctx:
        access.add_user(ctx, login="ola", role="registrar")
    with pytest.raises(InvalidInputError, match="already has the role"), unit_of_work() as ctx:
        access.add_user(ctx, login="per", role="publisher")
    with pytest.raises(NotFoundError), unit_of_work() as ctx:
        access.remove_user(ctx, login="nobody")
    with unit_of_work() as ctx:
        access.remove_user(ctx, login="per")
    with (
        pytest.raises(NotPermittedError, match="user per \\(no role"),
        unit_of_work(actor="per", writer=False) as ctx,
    ):
        people.list_people(ctx)
    with unit_of_work(writer=False) as ctx:
        assert [(u.login, u.role, u.units) for u in access.list_users(ctx)] == [
            ("dpo", "auditor", []),
            ("kari", "registrar", ["sol"]),
            ("tester", "admin", []),
        ]


def test_the_grants_give_each_role_only_the_tables_its_actions_write(
    unit_of_work: ContextFactory, register: dict[str, str]
) -> None:
    with unit_of_work(writer=False) as ctx:
        lines = access.grants_sql(ctx, database="consentreg")
    auditor = [line for line in lines if line.endswith('TO "consentreg_auditor"')]
    assert [line for line in auditor if line.startswith("GRANT INSERT")] == [
        'GRANT INSERT ON audit_events TO "consentreg_auditor"',
        'GRANT INSERT ON audit_mentions TO "consentreg_auditor"',
    ]
    assert not any("UPDATE" in line or "DELETE" in line for line in auditor)
    registrar = {
        line.split(" ON ")[1].split(" TO ")[0]
        for line in lines
        if '"consentreg_registrar"' in line and line.startswith("GRANT INSERT")
    }
    assert {"people", "consent_events", "guardianships", "evidence"} <= registrar
    assert "publications" not in registrar
    assert 'GRANT "consentreg_registrar" TO "kari"' in lines
    assert 'GRANT "consentreg_auditor" TO "dpo"' in lines


def _photo(unit_of_work: ContextFactory, unit: str | None, colour: tuple[int, int, int]) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buf, "JPEG")
    with unit_of_work() as ctx:
        [found] = photos.add_photos(
            ctx, files=[photos.PhotoInput("a.jpg", buf.getvalue())], photographer="P", unit=unit
        )
    return found


def test_a_registrar_registers_and_tags_photos_of_their_units_only(
    register: dict[str, str], unit_of_work: ContextFactory
) -> None:
    own = _photo(unit_of_work, "sol.bla", (10, 20, 30))
    other = _photo(unit_of_work, "mane", (30, 20, 10))
    with unit_of_work(actor="kari") as ctx:
        photos.tag_photo(ctx, photo_id=own, subject=register["sol_child"])
        photos.complete_photo(ctx, photo_id=own)
        photos.untag_photo(ctx, photo_id=own, subject=register["sol_child"])
    for change in (
        lambda ctx: photos.tag_photo(ctx, photo_id=other, subject=register["mane_child"]),
        lambda ctx: photos.complete_photo(ctx, photo_id=other),
        lambda ctx: photos.add_photos(
            ctx, files=[photos.PhotoInput("b.jpg", b"x")], photographer="P", unit="mane"
        ),
    ):
        with (
            pytest.raises(NotPermittedError, match="user kari .* for unit mane"),
            unit_of_work(actor="kari") as ctx,
        ):
            change(ctx)
    with (
        pytest.raises(NotPermittedError, match="user dpo .* photo.tag"),
        unit_of_work(actor="dpo") as ctx,
    ):
        photos.tag_photo(ctx, photo_id=own, subject=register["sol_child"])


def test_a_registrar_may_not_register_or_tag_a_photo_of_no_unit(
    register: dict[str, str], unit_of_work: ContextFactory
) -> None:
    """A photo of no unit is nobody's: a registrar could otherwise reach it from any unit."""
    unitless = _photo(unit_of_work, None, (40, 50, 60))
    for change in (
        lambda ctx: photos.add_photos(
            ctx, files=[photos.PhotoInput("c.jpg", b"x")], photographer="P", unit=None
        ),
        lambda ctx: photos.tag_photo(ctx, photo_id=unitless, subject=register["sol_child"]),
        lambda ctx: photos.complete_photo(ctx, photo_id=unitless),
    ):
        with (
            pytest.raises(NotPermittedError, match="user kari .* without a unit"),
            unit_of_work(actor="kari") as ctx,
        ):
            change(ctx)
    with unit_of_work(actor="per") as ctx:  # a publisher is not bound to units
        photos.tag_photo(ctx, photo_id=unitless, subject=register["sol_child"])
