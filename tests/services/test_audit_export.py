"""`export subject` (GDPR Art 15) on SQLite and PostgreSQL: one JSON document with everything
about one person, consent records in the ISO/IEC TS 27560 shape with DPV terms."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from consentreg.errors import NotFoundError
from consentreg.services.export import export_subject
from tests.builders import NOTICE
from tests.conftest import NOW, ContextFactory
from tests.services.test_audit_verify import Register, build_register

LATER = NOW + timedelta(hours=3)


@pytest.fixture
def register(unit_of_work: ContextFactory) -> Register:
    return build_register(unit_of_work)


@pytest.fixture
def child_export(unit_of_work: ContextFactory, register: Register) -> dict[str, Any]:
    with unit_of_work(now=LATER) as ctx:
        document = export_subject(ctx, "ref:K001")
    parsed: dict[str, Any] = json.loads(json.dumps(document))  # what a JSON reader gets
    return parsed


def test_the_export_names_the_person_to_themself(
    child_export: dict[str, Any], register: Register
) -> None:
    subject = child_export["subject"]
    assert (subject["dct:identifier"], subject["name"]) == (register["child"], "Kari Nordmann")
    assert (subject["born"], subject["external_ref"], subject["@type"]) == (
        "2021-03-14",
        "K001",
        "dpv:Child",
    )
    assert subject["unit"] == {"code": "bhg", "name": "Solsikken barnehage"}


def test_consent_records_are_shaped_after_iso_27560_with_dpv_terms(
    child_export: dict[str, Any], register: Register
) -> None:
    records = {r["dct:identifier"]: r for r in child_export["consent_records"]}
    assert set(records) == {
        register["grant_mother"],
        register["grant_father"],
        register["withdrawal"],
    }
    grant = records[register["grant_mother"]]
    assert grant["@type"] == "dpv:ConsentRecord"
    assert grant["dpv:hasDataSubject"]["@id"] == f"urn:consentreg:person:{register['child']}"
    assert grant["dpv:hasPurpose"]["dct:identifier"] == "facebook"
    assert grant["dpv:hasConsentStatus"] == "dpv:ConsentGiven"
    assert grant["dpv:isIndicatedBy"]["@id"] == f"urn:consentreg:person:{register['mother']}"
    assert (
        grant["dpv:hasNotice"]["consentreg:sha256"] == hashlib.sha256(NOTICE.encode()).hexdigest()
    )
    assert (
        grant["dpv:hasJustification"]["consentreg:sha256"]
        == hashlib.sha256(b"%PDF skjema Kari Nordmann").hexdigest()
    )
    assert grant["dct:valid"] == "2026-09-01/2027-07-31"
    withdrawal = records[register["withdrawal"]]
    assert withdrawal["dpv:hasConsentStatus"] == "dpv:ConsentWithdrawn"
    assert withdrawal["consentreg:withdraws"].endswith(register["grant_father"])
    assert withdrawal["consentreg:reason"] == "e-post"


def test_a_refusal_and_a_persons_own_consent_use_their_dpv_status_and_indicator(
    unit_of_work: ContextFactory, register: Register
) -> None:
    with unit_of_work(now=LATER) as ctx:
        document = export_subject(ctx, register["staff"])
    statuses = {
        (r["dpv:hasConsentStatus"], r["dpv:isIndicatedBy"]["@type"])
        for r in document["consent_records"]
    }
    assert statuses == {
        ("dpv:ConsentGiven", "dpv:DataSubject"),
        ("dpv:ConsentRefused", "dpv:DataSubject"),
    }
    assert document["subject"]["@type"] == "dpv:Employee"


def test_photos_publications_and_take_downs_are_included(
    child_export: dict[str, Any], register: Register
) -> None:
    assert [p["id"] for p in child_export["photos"]] == [register["photo"]]
    publications = {p["id"]: p for p in child_export["publications"]}
    assert set(publications) == {register["release"], register["refused"]}
    assert publications[register["release"]]["output_sha256"] == "ab" * 32
    assert child_export["takedowns"] == [
        {
            "publication": register["release"],
            "purpose": "facebook",
            "taken_down_at": publications[register["release"]]["taken_down_at"],
        }
    ]
    guardians = {g["guardian"] for g in child_export["guardianships"]}
    assert guardians == {register["mother"], register["father"], register["step"]}


def test_third_parties_texts_and_restriction_reasons_stay_out(
    child_export: dict[str, Any],
) -> None:
    dump = json.dumps(child_export, ensure_ascii=False)
    for other in ("Åse", "Per Nordmann", "Ola Lærer", "sperret", "slettet", "IMG_Kari"):
        assert other not in dump
    assert [r["action"] for r in child_export["restrictions"]] == ["restrict", "unrestrict"]


def test_the_export_is_recorded_without_the_persons_name(
    unit_of_work: ContextFactory, register: Register, engine: Engine
) -> None:
    with unit_of_work(now=LATER) as ctx:
        document = export_subject(ctx, register["child"])
    with engine.connect() as conn:
        action, ids, payload = conn.execute(
            text("SELECT action, object_ids, payload FROM audit_events ORDER BY seq DESC LIMIT 1")
        ).one()
    assert (action, json.loads(ids)) == ("audit.query", {"subject": register["child"]})
    assert json.loads(payload)["view"] == "export"
    assert "Kari" not in ids + payload
    assert document["processing_log"][0]["action"] == "person.add"


def test_exporting_an_unknown_person_is_not_found(
    unit_of_work: ContextFactory, register: Register
) -> None:
    with pytest.raises(NotFoundError), unit_of_work() as ctx:
        export_subject(ctx, "ref:K999")
