"""GDPR Art 15 access: everything the register holds about one person in one JSON document.

This is the data subject's own access request, so their name, birth date and reference are
decrypted. Other people appear by ID only (guardians, photographers, staff), and texts that may
carry third parties' data or endanger the subject are left out: restriction reasons (a protected
identity may be protected FROM a relative), captions, take-down notes, original file names.

Consent records are shaped after ISO/IEC TS 27560 as mapped by the W3C Data Privacy Vocabulary
(DPV): `dpv:hasDataSubject`, `dpv:hasPurpose`, `dpv:hasConsentStatus` (dpv:ConsentGiven /
ConsentRefused / ConsentWithdrawn), `dpv:isIndicatedBy`, `dpv:hasNotice` with the notice's
SHA-256, `dpv:hasJustification` with the evidence's SHA-256, and timestamps.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import or_, select

from consentreg.crypto import ERASED
from consentreg.db.models import (
    ConsentEvent,
    Evidence,
    Guardianship,
    NoticeVersion,
    Person,
    PersonCorrection,
    Photo,
    PhotoSubject,
    Publication,
    PublicationSubject,
    Purpose,
    RestrictionEvent,
    Unit,
)
from consentreg.domain.audit_chain import format_instant
from consentreg.services.access import require
from consentreg.services.audit.events import events_mentioning, record_query
from consentreg.services.people import decrypt_born, decrypt_name, resolve_person
from consentreg.services.unit_of_work import Context

SCHEMA = "https://w3id.org/dpv/schema/dpv-27560#record"
CONTEXT = {
    "dpv": "https://w3id.org/dpv#",
    "dct": "http://purl.org/dc/terms/",
    "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
    "consentreg": "urn:consentreg:",
}
STATUS = {
    "grant": "dpv:ConsentGiven",
    "refusal": "dpv:ConsentRefused",
    "withdrawal": "dpv:ConsentWithdrawn",
}
SUBJECT_TYPE = {"child": "dpv:Child", "adult": "dpv:Adult", "staff": "dpv:Employee"}


def _urn(kind: str, object_id: str) -> str:
    return f"urn:consentreg:{kind}:{object_id}"


def _when(value: Any) -> str | None:
    return format_instant(value) if value is not None else None


def _iso(day: date | None) -> str:
    return ERASED if day is None else day.isoformat()


def _person(ctx: Context, person: Person) -> dict[str, Any]:
    unit = ctx.session.get(Unit, person.unit_id) if person.unit_id else None
    ref = (
        ctx.keys.decrypt(person.ref_ct, table="people", column="ref", row_id=person.id)
        if person.ref_ct
        else None
    )
    return {
        "@id": _urn("person", person.id),
        "@type": SUBJECT_TYPE[person.kind],
        "dct:identifier": person.id,
        "name": decrypt_name(ctx, person),
        "born": _iso(decrypt_born(ctx, person)),
        "external_ref": ref,
        "kind": person.kind,
        "unit": {"code": unit.code, "name": unit.name} if unit else None,
        "protected_identity": person.protected,
        "dct:created": _when(person.created_at),
        "left": _when(person.left_at),
    }


def _corrections(ctx: Context, pid: str) -> list[dict[str, Any]]:
    """Each correction with the values it replaced (personal data held about them too)."""
    dec = ctx.keys.decrypt
    found = []
    rows = ctx.session.scalars(
        select(PersonCorrection)
        .where(PersonCorrection.person_id == pid)
        .order_by(PersonCorrection.version)
    )
    for c in rows:
        fields = c.fields.split(",")
        old: dict[str, Any] = {}
        for column, ct in (("name", c.name_ct), ("born", c.born_ct), ("ref", c.ref_ct)):
            if column in fields:
                old[column] = dec(ct, table="people", column=column, row_id=pid) if ct else None
        if "unit" in fields:
            unit = ctx.session.get(Unit, c.unit_id) if c.unit_id else None
            old["unit"] = unit.code if unit else None
        found.append({"dct:modified": _when(c.at), "corrected": fields, "previous": old})
    return found


def _guardianships(ctx: Context, pid: str) -> list[dict[str, Any]]:
    rows = ctx.session.scalars(
        select(Guardianship)
        .where(or_(Guardianship.child_id == pid, Guardianship.guardian_id == pid))
        .order_by(Guardianship.added_at, Guardianship.id)
    )
    return [
        {
            "id": g.id,
            "child": g.child_id,
            "guardian": g.guardian_id,
            "parental_responsibility": g.parental_responsibility,
            "added_at": _when(g.added_at),
            "removed_at": _when(g.removed_at),
        }
        for g in rows
    ]


def _restrictions(ctx: Context, pid: str) -> list[dict[str, Any]]:
    rows = ctx.session.scalars(
        select(RestrictionEvent)
        .where(RestrictionEvent.person_id == pid)
        .order_by(RestrictionEvent.at, RestrictionEvent.id)
    )
    return [{"id": r.id, "action": r.action, "at": _when(r.at)} for r in rows]


def _indicated_by(e: ConsentEvent) -> dict[str, str]:
    kind = "dpv:DataSubject" if e.consenter_id == e.subject_id else "dpv:GuardianOfDataSubject"
    return {"@id": _urn("person", e.consenter_id), "@type": kind}


def _notice(ctx: Context, purpose: Purpose, version: int) -> dict[str, Any]:
    notice = ctx.session.scalar(
        select(NoticeVersion).where(
            NoticeVersion.purpose_id == purpose.id, NoticeVersion.version == version
        )
    )
    return {
        "dct:identifier": f"{purpose.code}/v{version}",
        "dct:hasVersion": version,
        "consentreg:sha256": notice.sha256 if notice else None,
    }


def _justification(ctx: Context, e: ConsentEvent) -> dict[str, Any] | None:
    evidence = ctx.session.get(Evidence, e.evidence_id) if e.evidence_id else None
    if evidence is None:
        return None
    return {
        "@type": "dpv:Evidence",
        "dct:identifier": evidence.id,
        "consentreg:sha256": evidence.sha256,
        "dct:extent": evidence.size,
    }


def _consent_record(ctx: Context, e: ConsentEvent, subject_kind: str) -> dict[str, Any]:
    purpose = ctx.session.get_one(Purpose, e.purpose_id)
    reason = (
        ctx.keys.decrypt(e.reason_ct, table="consent_events", column="reason", row_id=e.id)
        if e.reason_ct
        else None
    )
    validity = f"{e.valid_from}/{e.valid_until}" if e.valid_from and e.valid_until else None
    return {
        "@id": _urn("consent", e.id),
        "@type": "dpv:ConsentRecord",
        "dct:identifier": e.id,
        "dct:conformsTo": SCHEMA,
        "dpv:hasDataSubject": {"@id": _urn("person", e.subject_id), "@type": subject_kind},
        "dpv:hasLegalBasis": "eu-gdpr:A6-1-a",
        "dpv:hasPurpose": {
            "@id": _urn("purpose", purpose.id),
            "dct:identifier": purpose.code,
            "dct:title": purpose.title,
        },
        "dpv:hasConsentStatus": STATUS[e.kind],
        "dpv:isIndicatedBy": _indicated_by(e),
        "dpv:isIndicatedAtTime": _when(e.effective_at),
        "dpv:hasIndicationMethod": e.method,
        "dpv:hasNotice": _notice(ctx, purpose, e.notice_version),
        "dpv:hasJustification": _justification(ctx, e),
        "dct:valid": validity,
        "consentreg:withdraws": _urn("consent", e.withdraws_id) if e.withdraws_id else None,
        "consentreg:reason": reason,
        "dct:created": _when(e.recorded_at),
    }


def _consent_records(ctx: Context, pid: str) -> list[dict[str, Any]]:
    rows = ctx.session.execute(
        select(ConsentEvent, Person.kind)
        .join(Person, Person.id == ConsentEvent.subject_id)
        .where(or_(ConsentEvent.subject_id == pid, ConsentEvent.consenter_id == pid))
        .order_by(ConsentEvent.seq)
    ).all()
    return [_consent_record(ctx, e, SUBJECT_TYPE[kind]) for e, kind in rows]


def _photos(ctx: Context, pid: str) -> list[dict[str, Any]]:
    rows = ctx.session.execute(
        select(Photo, PhotoSubject)
        .join(PhotoSubject, PhotoSubject.photo_id == Photo.id)
        .where(PhotoSubject.person_id == pid)
        .order_by(Photo.created_at, Photo.id)
    ).all()
    return [
        {
            "id": photo.id,
            "sha256": photo.sha256,
            "format": photo.format,
            "width": photo.width,
            "height": photo.height,
            "identifiable": tag.identifiable,
            "region": tag.region,
            "tagged_at": _when(tag.tagged_at),
        }
        for photo, tag in rows
    ]


def _publications(ctx: Context, pid: str) -> list[dict[str, Any]]:
    rows = ctx.session.execute(
        select(Publication, Purpose.code)
        .join(Purpose, Purpose.id == Publication.purpose_id)
        .join(PublicationSubject, PublicationSubject.publication_id == Publication.id)
        .where(PublicationSubject.person_id == pid)
        .order_by(Publication.decided_at, Publication.id)
    ).all()
    return [
        {
            "id": pub.id,
            "purpose": code,
            "photo": pub.photo_id,
            "decision": pub.decision,
            "decided_at": _when(pub.decided_at),
            "reasons": [r for r in json.loads(pub.reasons) if r["subject"] in (None, pid)],
            "output_name": pub.output_name,
            "output_sha256": pub.output_sha256,
            "taken_down_at": _when(pub.taken_down_at),
        }
        for pub, code in rows
    ]


def export_subject(ctx: Context, key: str) -> dict[str, Any]:
    """The whole Art 15 document for one person (by ID or `ref:EXTERNAL_ID`); recorded as an
    `audit.query` event (view `export`) naming only the person's ID."""
    require(ctx, "audit.read")
    person = resolve_person(ctx, key)
    document = subject_document(ctx, person)
    record_query(ctx, "export", ids={"subject": person.id}, payload={"format": SCHEMA})
    return document


def subject_document(ctx: Context, person: Person) -> dict[str, Any]:
    """The Art 15 document (the caller checks the role and records the read)."""
    publications = _publications(ctx, person.id)
    return {
        "@context": CONTEXT,
        "dct:created": format_instant(ctx.now),
        "dct:description": "Everything consentreg holds about one person (GDPR Art 15)",
        "subject": _person(ctx, person),
        "corrections": _corrections(ctx, person.id),
        "guardianships": _guardianships(ctx, person.id),
        "restrictions": _restrictions(ctx, person.id),
        "consent_records": _consent_records(ctx, person.id),
        "photos": _photos(ctx, person.id),
        "publications": publications,
        "takedowns": [
            {"publication": p["id"], "purpose": p["purpose"], "taken_down_at": p["taken_down_at"]}
            for p in publications
            if p["taken_down_at"] is not None
        ],
        "processing_log": [
            {"seq": e.seq, "at": _when(e.at), "action": e.action}
            for e in events_mentioning(ctx, person.id)
        ],
    }
