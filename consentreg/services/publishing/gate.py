"""The publishing gate: gather what the register says at an instant, let the rules decide,
record every decision with the consents it relied on, and keep the take-down list.

Concurrency: `record_decision` runs in a writer transaction (BEGIN IMMEDIATE on SQLite, the
writer advisory lock on PostgreSQL) and locks the subjects' rows it relies on, the same rows a
consent change locks. A withdrawal that commits first is seen by the re-check here; a release
that commits first is on the withdrawal's take-down list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, or_, select

from consentreg.crypto import sha256_hex
from consentreg.db.models import (
    ConsentEvent,
    Guardianship,
    Person,
    Photo,
    PhotoSubject,
    Publication,
    PublicationConsent,
    PublicationSubject,
    Purpose,
)
from consentreg.domain import model, text
from consentreg.domain.rules import evaluate
from consentreg.i18n import msg
from consentreg.services.access import require
from consentreg.services.audit import log as audit_log
from consentreg.services.face_boxes import face_boxes, face_tags
from consentreg.services.guardianships import guardians_at
from consentreg.services.people import decrypt_born, decrypt_name, restricted_at
from consentreg.services.photos import photo_by_sha256
from consentreg.services.publishing.captions import named_in_caption
from consentreg.services.purposes import domain_purpose, purpose_by_code
from consentreg.services.unit_of_work import Context, new_id

RELEASED, REFUSED = "released", "refused"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True)
class GateResult:
    photo_id: str | None
    decision: model.Decision
    max_px: int


@dataclass(frozen=True)
class Recorded:
    publication_id: str
    decision: model.Decision
    output_name: str | None


def _tags(ctx: Context, photo: Photo) -> list[PhotoSubject]:
    return list(
        ctx.session.scalars(
            select(PhotoSubject)
            .where(PhotoSubject.photo_id == photo.id)
            .order_by(PhotoSubject.tagged_at, PhotoSubject.person_id)
        )
    )


def _subjects(ctx: Context, people: dict[str, Person], at: datetime) -> dict[str, model.Subject]:
    """The tagged people as the rules see them: protected now or at the instant (either way never
    published), with their guardians then."""
    ids = list(people)
    restricted, guardians = (
        restricted_at(ctx, at, ids=ids),
        guardians_at(ctx, at, Guardianship.child_id.in_(ids)),
    )
    if ctx.keys.persons is not None:
        ctx.keys.persons.prefetch(ids)  # the people's own keys in one query
    subjects = {}
    for pid, person in people.items():
        born = decrypt_born(ctx, person)
        subjects[pid] = model.Subject(
            id=pid,
            # erased: an adult with no consent (see _events), so nothing of theirs is published
            born=date.min if born is None else born,
            full_name=decrypt_name(ctx, person),
            protected=person.protected or pid in restricted,
            guardians=guardians.get(pid, ()),
        )
    return subjects


def _key_owners(ctx: Context, ids: list[str]) -> list[str]:
    """Those of these people who have a data key of their own (not erased)."""
    return [pid for pid in ids if ctx.keys.person_key_state(pid) == "own"]


def _not_erased(ctx: Context, ids: list[str]) -> list[str]:
    """These people but the erased (their keys are known to this unit of work already): the
    consents of an erased person count for nothing."""
    if ctx.keys.persons is None:
        return ids
    return [pid for pid in ids if ctx.keys.person_key_state(pid) != "erased"]


def _events(ctx: Context, purpose: Purpose, subject_ids: list[str]) -> list[model.ConsentEvent]:
    rows = ctx.session.scalars(
        select(ConsentEvent).where(
            ConsentEvent.purpose_id == purpose.id, ConsentEvent.subject_id.in_(subject_ids)
        )
    )
    return [
        model.ConsentEvent(
            id=e.id,
            seq=e.seq,
            subject_id=e.subject_id,
            purpose=purpose.code,
            kind=model.EventKind(e.kind),
            consenter_id=e.consenter_id,
            effective_at=e.effective_at,
            notice_version=e.notice_version,
            valid_from=e.valid_from,
            valid_until=e.valid_until,
            withdraws=e.withdraws_id,
        )
        for e in rows
    ]


def decide(
    ctx: Context,
    *,
    photo: Photo | None,
    purpose: Purpose,
    at: datetime,
    caption: str | None = None,
    lock: bool = False,
) -> model.Decision:
    """Evaluate docs/rules.md R1-R11 for one photo and purpose at an instant."""
    if photo is None:
        return evaluate(
            photo=model.PhotoFacts(registered=False),
            purpose=domain_purpose(ctx, purpose, at=at),
            subjects={},
            events=[],
            at=at,
            caption=caption,
        )
    tags = _tags(ctx, photo)
    ids = [t.person_id for t in tags if t.identifiable]
    hidden = [t.person_id for t in tags if not t.identifiable]
    query = select(Person).where(Person.id.in_(ids + hidden))
    if lock:  # the rows a consent change locks: serialises with withdrawals on PostgreSQL
        query = query.with_for_update(read=True)
    people = {p.id: p for p in ctx.session.scalars(query.order_by(Person.id))}
    facts = model.PhotoFacts(
        registered=True,
        tagging_complete=photo.complete,
        photographer_recorded=bool(photo.photographer_ct),
        subject_ids=tuple(ids),
        hidden_ids=tuple(hidden),
        faces=face_boxes(photo),
        face_tags=face_tags(photo, tags),
    )
    return evaluate(
        photo=facts,
        purpose=domain_purpose(ctx, purpose, at=at),
        subjects=_subjects(ctx, people, at),
        events=_events(ctx, purpose, _not_erased(ctx, ids)),
        at=at,
        caption=caption,
        # R11: whoever in the whole register the caption names, tagged or not
        caption_names=named_in_caption(ctx, caption, at=at) if caption else [],
    )


def check(
    ctx: Context,
    *,
    input_sha256: str,
    purpose: str,
    at: datetime,
    caption: str | None = None,
    again: bool = True,
) -> GateResult:
    """The decision only: writes nothing. With `again=False`, an allowed photo already released
    for the purpose (and not taken down) is answered `already_released`, as `publish` would."""
    require(ctx, "publish.check")
    if caption is not None:
        text.check_text(caption, field="--caption", limit=text.CAPTION)
    purpose_row = purpose_by_code(ctx, purpose)
    photo = photo_by_sha256(ctx, input_sha256)
    decision = decide(ctx, photo=photo, purpose=purpose_row, at=at, caption=caption)
    if not again:
        decision, _ = _unless_released(ctx, photo, purpose_row, decision)
    return GateResult(photo.id if photo else None, decision, purpose_row.max_px)


def earlier_release(ctx: Context, *, photo_id: str, purpose_id: str) -> str | None:
    """The latest release of the photo for the purpose that is still out there (not taken
    down, its delivery not failed), or None. One lookup on the photo's index."""
    return ctx.session.scalar(
        _open_releases_of_photo(photo_id, purpose_id)
        .order_by(Publication.decided_at.desc(), Publication.id.desc())
        .limit(1)
    )


def _open_releases_of_photo(photo_id: str, purpose_id: str) -> Select[str]:
    return select(Publication.id).where(
        Publication.photo_id == photo_id,
        Publication.purpose_id == purpose_id,
        Publication.decision == RELEASED,
        Publication.taken_down_at.is_(None),
        or_(Publication.delivery.is_(None), Publication.delivery != FAILED),
    )


def _unless_released(
    ctx: Context, photo: Photo | None, purpose: Purpose, decision: model.Decision
) -> tuple[model.Decision, str | None]:
    """An allowed decision turned into `already_released` when the photo is out there already
    for the purpose (docs/rules.md, "Repeated release"); with the earlier publication's ID."""
    if photo is None or not decision.allowed:
        return decision, None
    earlier = earlier_release(ctx, photo_id=photo.id, purpose_id=purpose.id)
    if earlier is None:
        return decision, None
    why = msg(
        "already released for {purpose} as publication {earlier} (not taken down); "
        "publish --again makes a new copy",
        purpose=purpose.code,
        earlier=earlier,
    )
    reason = model.Reason(model.ReasonCode.ALREADY_RELEASED, None, why)
    return model.Decision(reasons=(reason,)), earlier


def record_decision(
    ctx: Context,
    *,
    input_sha256: str,
    purpose: str,
    caption: str | None = None,
    output_sha256: str | None = None,
    output_size: int | None = None,
    output_extension: str = "jpg",
    output_dir: str | None = None,
    input_path: str | None = None,
    again: bool = False,
) -> Recorded:
    """Re-check at `ctx.now` under the writer lock and record a release or a refusal.

    A photo the gate allows that is already released for the purpose (and not taken down) is
    not released again unless `again`: the answer is `already_released` with the earlier
    publication's ID, and nothing is recorded (the earlier publication is the record: running
    a batch again adds no rows, no events and no take-down entries).

    A release is recorded only when the check allows it AND a rendered output is given. It is
    recorded as `pending`: the caller writes the file into `output_dir` only after the commit,
    then reports it with `mark_delivered` (or `mark_failed`). The folder and the input's path
    are kept encrypted, so that a later run can finish a delivery a crash interrupted.
    """
    require(ctx, "publication.released")
    if caption is not None:
        text.check_text(caption, field="--caption", limit=text.CAPTION)
    purpose_row = purpose_by_code(ctx, purpose)
    photo = photo_by_sha256(ctx, input_sha256)
    decision = decide(ctx, photo=photo, purpose=purpose_row, at=ctx.now, caption=caption, lock=True)
    if not again:
        decision, earlier = _unless_released(ctx, photo, purpose_row, decision)
        if earlier is not None:
            return Recorded(earlier, decision, None)
    released = decision.allowed and output_sha256 is not None
    pid = new_id()
    subject_ids = (
        sorted({t.person_id for t in _tags(ctx, photo) if t.identifiable})
        if photo is not None
        else []
    )
    reasons = [{"code": r.code.value, "subject": r.subject_id} for r in decision.reasons]
    pub = Publication(
        id=pid,
        photo_id=photo.id if photo else None,
        input_sha256=input_sha256,
        purpose_id=purpose_row.id,
        decision=RELEASED if released else REFUSED,
        reasons=json.dumps(reasons),
        decided_at=ctx.now,
        actor=ctx.actor,
        caption_ct=(
            # under the keys of everyone in the photo: erasing any of them makes it unreadable
            ctx.keys.encrypt(
                caption,
                table="publications",
                column="caption",
                row_id=pid,
                person=_key_owners(ctx, subject_ids),
            )
            if caption
            else None
        ),
        output_name=output_name(pid, output_extension) if released else None,
        output_sha256=output_sha256 if released else None,
        output_size=output_size if released else None,
        delivery=PENDING if released else None,
        output_dir_ct=_encrypted_path(ctx, pid, "output_dir", output_dir) if released else None,
        input_path_ct=_encrypted_path(ctx, pid, "input_path", input_path) if released else None,
    )
    ctx.session.add(pub)
    ctx.session.flush()
    subjects = [PublicationSubject(publication_id=pid, person_id=s) for s in subject_ids]
    consents = [
        PublicationConsent(publication_id=pid, consent_event_id=c)
        for c in (sorted(set(decision.relied_on)) if released else [])
    ]
    ctx.session.add_all([*subjects, *consents])
    ctx.session.flush()
    rows = {"publications": pub, "publication_consents": consents, "publication_subjects": subjects}
    audit_log.record(ctx, f"publication.{pub.decision}", rows)
    return Recorded(pid, decision, pub.output_name)


def _digest(ciphertext: bytes | None) -> str | None:
    return sha256_hex(ciphertext) if ciphertext else None


def _encrypted_path(ctx: Context, pid: str, column: str, path: str | None) -> bytes | None:
    if path is None:
        return None
    return ctx.keys.encrypt(path, table="publications", column=column, row_id=pid)


def output_name(publication_id: str, extension: str) -> str:
    """Neutral: derived from the random publication ID, never from the input's name."""
    return f"{publication_id}.{extension}"
