"""The person page's actions through Flask's test client, on SQLite and PostgreSQL: correcting,
leaving, restricting, the history, a consent's scan, one form for several purposes and
consenters, withdrawal with its take-down list; a form posted twice, a stale form, a missing
CSRF token and another unit's person; hostile names as text; every view recorded."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select, text

from consentreg.db.models import ConsentEvent, EvidenceBlob, Person, PersonCorrection
from consentreg.domain.model import EventKind
from consentreg.services import consents, corrections
from consentreg.services.erasure import erase_person
from consentreg.services.evidence import read_evidence
from tests.conftest import NOW, ContextFactory
from tests.web.conftest import HOSTILE, form_of, log_in, token

SCAN = b"%PDF-1.4\n% a signed form\n"


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _views(engine: Engine) -> list[tuple[dict[str, object], dict[str, object]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT object_ids, payload FROM audit_events WHERE action = 'audit.query'")
        ).all()
    return [(json.loads(ids), json.loads(payload)) for ids, payload in rows]


def _last_view(engine: Engine) -> tuple[dict[str, object], str]:
    ids, payload = _views(engine)[-1]
    return ids, str(payload["view"])


def _actions(engine: Engine, action: str) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action = :a"), {"a": action}
        ).scalar_one()
    return int(found)


def _page(client: FlaskClient, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, path
    return answer.get_data(as_text=True)


def _grants(unit_of_work: ContextFactory, subject: str) -> list[str]:
    with unit_of_work(actor="ada") as ctx:
        return [c.id for c in consents.list_consents(ctx, subject=subject) if c.kind == "grant"]


def test_a_correction_from_the_form_changes_the_person_and_the_edit_form_is_recorded(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    edit, action = f"/people/{staff['emma']}/edit", f"/people/{staff['emma']}/correct"
    fields = form_of(client, edit, action)
    assert _last_view(engine) == ({"subject": staff["emma"]}, "person_edit")
    answer = client.post(
        action,
        data={
            **fields,
            "name": "Emma Nordmann Berg",
            "born": "2021-03-14",
            "ref": "",
            "unit": "bhg",
        },
    )
    assert answer.status_code == 302
    page = _page(client, answer.headers["Location"])
    assert "Emma Nordmann Berg" in page
    assert "Rettelsen er lagret." in page
    assert _count(engine, PersonCorrection) == 1


def test_a_registrar_cannot_move_a_person_to_another_unit_nor_touch_its_people(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    action = f"/people/{staff['emma']}/correct"
    fields = form_of(client, f"/people/{staff['emma']}/edit", action)
    assert "blaa" not in client.get(f"/people/{staff['emma']}/edit").get_data(as_text=True)
    moved = client.post(action, data={**fields, "unit": "blaa"})
    assert moved.status_code == 403
    per = staff["per"]
    for path in (f"/people/{per}/edit", f"/people/{per}/history"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "Per Blå" not in answer.get_data(as_text=True)
    forged = {"csrf_token": token(client), "once": "x1", "version": "0" * 16, "reason": "r"}
    for path in (f"/people/{per}/correct", f"/people/{per}/leave", f"/people/{per}/restrict"):
        answer = client.post(path, data={**forged, "name": "Ny", "protect": "1"})
        assert answer.status_code == 403, path
    assert _count(engine, PersonCorrection) == 0
    assert _actions(engine, "person.leave") + _actions(engine, "person.restrict") == 0


def test_leaving_and_restricting_from_the_person_page(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    page = f"/people/{staff['emma']}"
    restrict = f"{page}/restrict"
    answer = client.post(restrict, data={**form_of(client, page, restrict), "reason": "Vedtak"})
    assert answer.status_code == 302
    shown = _page(client, page)
    assert "Identiteten er skjermet." in shown
    assert "Skjermet identitet: publiseres aldri." in shown
    lift = client.post(restrict, data={**form_of(client, page, restrict), "reason": "Opphevet"})
    assert lift.status_code == 302
    assert "Skjermingen er opphevet." in _page(client, page)
    leave = f"{page}/leave"
    assert client.post(leave, data=form_of(client, page, leave)).status_code == 302
    assert "Sluttet" in _page(client, page)
    assert _actions(engine, "person.restrict") == 1
    assert _actions(engine, "person.unrestrict") == 1
    assert _actions(engine, "person.leave") == 1


def test_a_restriction_without_a_reason_is_a_400_and_writes_nothing(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    page, restrict = f"/people/{staff['emma']}", f"/people/{staff['emma']}/restrict"
    answer = client.post(restrict, data={**form_of(client, page, restrict), "reason": "  "})
    assert answer.status_code == 400
    assert _actions(engine, "person.restrict") == 0


def test_the_history_is_for_those_who_may_read_the_log_in_plain_words_and_recorded(
    client: FlaskClient, staff: dict[str, str], engine: Engine, unit_of_work: ContextFactory
) -> None:
    with unit_of_work(actor="ada") as ctx:
        corrections.correct_person(ctx, staff["emma"], born=date(2021, 3, 15))
    log_in(client, "rita")
    assert "Historikk" not in _page(client, f"/people/{staff['emma']}")
    assert client.get(f"/people/{staff['emma']}/history").status_code == 403
    client.post("/logout", data={"csrf_token": token(client)})
    log_in(client, "aud")
    page = _page(client, f"/people/{staff['hostile']}/history")
    assert "Registrert" in page
    assert "&lt;script&gt;" in page
    assert "<script" not in page
    assert _last_view(engine) == ({"subject": staff["hostile"]}, "subject")
    emma = _page(client, f"/people/{staff['emma']}/history")
    assert "Samtykke gitt" in emma
    assert "Opplysninger rettet" in emma
    assert f"{NOW:%Y-%m-%d}, ada: fødselsdato" in emma


def test_one_form_records_several_purposes_by_several_consenters_with_one_scan(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    path = f"/people/{staff['emma']}/consents"
    before, scans = _count(engine, ConsentEvent), _count(engine, EvidenceBlob)
    answer = client.post(
        path,
        data={
            **form_of(client, f"{path}/new", path),
            "purpose": ["facebook", "yearbook"],
            "by": [staff["mor"], staff["far"]],
            "decision": "refusal",
            "method": "paper",
            "evidence": (io.BytesIO(SCAN), "skjema.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302
    assert _count(engine, ConsentEvent) == before + 4
    assert _count(engine, EvidenceBlob) == scans + 1


def test_a_form_posted_twice_writes_once_and_answers_alike(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "rita")
    path = f"/people/{staff['emma']}/consents"
    form = {
        **form_of(client, f"{path}/new", path),
        "purpose": "yearbook",
        "by": staff["mor"],
        "decision": "grant",
        "method": "paper",
    }
    before = _count(engine, ConsentEvent)
    first, second = client.post(path, data=form), client.post(path, data=form)
    assert (first.status_code, second.status_code) == (302, 302)
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(engine, ConsentEvent) == before + 1
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT key FROM form_posts")).scalars().all()
    assert form["once"] not in stored  # a digest, never the token itself


def test_a_stale_form_is_refused_with_409_and_nothing_is_written(
    client: FlaskClient, staff: dict[str, str], engine: Engine, unit_of_work: ContextFactory
) -> None:
    log_in(client, "rita")
    emma = staff["emma"]
    edit = form_of(client, f"/people/{emma}/edit", f"/people/{emma}/correct")
    consent = form_of(client, f"/people/{emma}/consents/new", f"/people/{emma}/consents")
    with unit_of_work(actor="ada", now=NOW + timedelta(days=1)) as ctx:
        corrections.correct_person(ctx, emma, name="Emma Endret")
    before = (_count(engine, ConsentEvent), _count(engine, PersonCorrection))
    stale = client.post(f"/people/{emma}/correct", data={**edit, "name": "Emma Annet"})
    assert stale.status_code == 409
    assert "Noen andre har endret dette i mellomtiden" in stale.get_data(as_text=True)
    assert "Ingenting ble lagret" in stale.get_data(as_text=True)
    late = client.post(
        f"/people/{emma}/consents",
        data={**consent, "purpose": "yearbook", "by": staff["mor"], "decision": "grant"},
    )
    assert late.status_code == 409
    assert (_count(engine, ConsentEvent), _count(engine, PersonCorrection)) == before
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Person)).scalar_one() > 0


def test_every_new_post_without_its_csrf_token_is_refused_and_writes_nothing(
    client: FlaskClient, staff: dict[str, str], engine: Engine
) -> None:
    log_in(client, "ada")
    emma = staff["emma"]
    fields = form_of(client, f"/people/{emma}", f"/people/{emma}/leave")
    del fields["csrf_token"]
    (grant, *_) = _grants_of(client, engine, emma)
    writes = ["person.correct", "person.leave", "person.restrict", "consent.withdrawal"]
    writes += ["publication.takedown", "user.add", "user.remove", "user.password_reset"]
    before = {action: _actions(engine, action) for action in writes}
    for path, extra in (
        (f"/people/{emma}/correct", {"name": "X Y"}),
        (f"/people/{emma}/leave", {}),
        (f"/people/{emma}/restrict", {"protect": "1", "reason": "r"}),
        (f"/consents/{grant}/withdraw", {}),
        ("/takedown/" + "0" * 32 + "/done", {}),
        ("/users/roles", {"login": "ny", "role": "auditor"}),
        ("/users/roles/remove", {"login": "aud", "role": "auditor"}),
        ("/users/password", {"login": "aud", "password": "p" * 12, "repeated": "p" * 12}),
    ):
        assert client.post(path, data={**fields, **extra}).status_code == 403, path
    assert {action: _actions(engine, action) for action in writes} == before


def _grants_of(client: FlaskClient, engine: Engine, subject: str) -> list[str]:  # noqa: ARG001
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(ConsentEvent.id).where(
                    ConsentEvent.subject_id == subject, ConsentEvent.kind == "grant"
                )
            ).scalars()
        )


def test_a_scan_is_downloaded_as_an_attachment_and_the_reading_recorded(
    client: FlaskClient, staff: dict[str, str], engine: Engine, unit_of_work: ContextFactory
) -> None:
    log_in(client, "rita")
    path = f"/people/{staff['hostile']}/consents"
    client.post(
        path,
        data={
            **form_of(client, f"{path}/new", path),
            "purpose": "facebook",
            "by": staff["hostile"],
            "decision": "grant",
            "method": "paper",
            "evidence": (io.BytesIO(SCAN), "skjema.pdf"),
        },
        content_type="multipart/form-data",
    )
    (consent,) = _grants_of(client, engine, staff["hostile"])
    page = _page(client, f"/people/{staff['hostile']}")
    assert f"/consents/{consent}/evidence" in page
    answer = client.get(f"/consents/{consent}/evidence")
    assert answer.status_code == 200
    assert answer.data == SCAN
    assert answer.mimetype == "application/pdf"
    assert answer.headers["Content-Disposition"].startswith("attachment; filename=")
    assert "sandbox" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert _actions(engine, "evidence.read") == 1
    client.post("/logout", data={"csrf_token": token(client)})
    log_in(client, "otto")
    assert client.get(f"/consents/{consent}/evidence").status_code == 403
    assert _actions(engine, "evidence.read") == 1


def test_a_scan_of_another_kind_is_sent_as_bytes(
    client: FlaskClient, staff: dict[str, str], unit_of_work: ContextFactory, tmp_path: Path
) -> None:
    odd = tmp_path / "skjema.html"
    odd.write_bytes(b"<html><script>alert(1)</script></html>")
    with unit_of_work(actor="ada") as ctx:
        cid = consents.record_decision(
            ctx,
            subject=staff["emma"],
            purpose="yearbook",
            by=staff["mor"],
            kind=EventKind.GRANT,
            evidence=read_evidence(odd),
        )
    log_in(client, "aud")
    answer = client.get(f"/consents/{cid}/evidence")
    assert answer.status_code == 200
    assert answer.mimetype == "application/octet-stream"
    assert answer.headers["Content-Disposition"].endswith('.bin"')


def test_withdrawing_shows_the_take_down_list_and_the_worklist_marks_it_done(
    client: FlaskClient, staff: dict[str, str], engine: Engine, released: str
) -> None:
    log_in(client, "rita")
    (grant, *_) = _grants_of(client, engine, staff["emma"])
    assert f"/consents/{grant}/withdraw" in _page(client, f"/people/{staff['emma']}")
    action = f"/consents/{grant}/withdraw"
    fields = form_of(client, action, action)
    assert _last_view(engine)[1] == "withdraw_form"
    answer = client.post(action, data={**fields, "reason": "Flyttet"})
    assert answer.status_code == 302
    again = client.post(action, data={**fields, "reason": "Flyttet"})
    assert again.headers["Location"] == answer.headers["Location"]
    assert _actions(engine, "consent.withdrawal") == 1
    page = _page(client, answer.headers["Location"])
    assert "Samtykket er trukket tilbake." in page
    assert f"{released}.jpg" in page
    assert "Emma Nordmann" in page
    ids, view = _last_view(engine)
    assert view == "withdrawal"
    assert staff["emma"] in ids["people"]  # type: ignore[operator]
    assert client.get("/takedown").status_code == 403  # a registrar has no worklist
    client.post("/logout", data={"csrf_token": token(client)})
    log_in(client, "aud")
    listed = _page(client, "/takedown")
    assert f"{released}.jpg" in listed
    assert "/done" not in listed  # an auditor only reads
    assert _last_view(engine)[1] == "takedown"
    client.post("/logout", data={"csrf_token": token(client)})
    log_in(client, "ada")
    done = f"/takedown/{released}/done"
    assert client.post(done, data=form_of(client, "/takedown", done)).status_code == 302
    assert "Ingenting å fjerne." in _page(client, "/takedown")
    assert _actions(engine, "publication.takedown") == 1


def test_another_units_registrar_cannot_withdraw_or_see_the_withdrawal(
    client: FlaskClient, staff: dict[str, str], engine: Engine, unit_of_work: ContextFactory
) -> None:
    (grant, *_) = _grants_of(client, engine, staff["emma"])
    with unit_of_work(actor="ada", now=NOW + timedelta(hours=1)) as ctx:
        wid = consents.withdraw_consent(ctx, consent_id=grant).id
    log_in(client, "otto")
    assert client.get(f"/consents/{grant}/withdraw").status_code == 403
    assert client.get(f"/withdrawals/{wid}").status_code == 403
    answer = client.post(
        f"/consents/{grant}/withdraw",
        data={"csrf_token": token(client), "once": "o", "version": "0" * 16},
    )
    assert answer.status_code == 403
    assert "Emma" not in answer.get_data(as_text=True)


def test_hostile_names_are_text_on_every_new_page(
    client: FlaskClient, staff: dict[str, str], unit_of_work: ContextFactory
) -> None:
    with unit_of_work(actor="ada") as ctx:
        cid = consents.record_decision(
            ctx,
            subject=staff["hostile"],
            purpose="facebook",
            by=staff["hostile"],
            kind=EventKind.GRANT,
        )
    log_in(client, "ada")
    hostile = staff["hostile"]
    for path in (
        f"/people/{hostile}/edit",
        f"/people/{hostile}/history",
        f"/consents/{cid}/withdraw",
        f"/people/{hostile}/consents/new",
    ):
        page = _page(client, path)
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Hacker" in page, path
        assert HOSTILE not in page, path


def test_an_erased_person_shows_as_slettet_and_cannot_be_corrected(
    client: FlaskClient, staff: dict[str, str], unit_of_work: ContextFactory
) -> None:
    with unit_of_work(actor="ada") as ctx:
        erase_person(ctx, staff["emma"])
    log_in(client, "rita")
    page = client.get(f"/people/{staff['emma']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>(slettet)</h1>" in html
    assert "Emma" not in html
    assert client.get(f"/people/{staff['emma']}/edit").status_code == 400
    unit = client.get("/units/bhg").get_data(as_text=True)
    assert "(slettet)" in unit
