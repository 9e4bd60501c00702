"""Whether a release's file arrived: a release is committed as `pending` before its copy is
written into the output folder, then reported `delivered`, or `failed` (void) when it could not
be written and cannot be written again."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from consentreg.db.models import Publication, Purpose
from consentreg.errors import InvalidInputError, NotFoundError
from consentreg.i18n import msg
from consentreg.services.audit import log as audit_log
from consentreg.services.publishing.gate import DELIVERED, FAILED, PENDING, RELEASED
from consentreg.services.unit_of_work import Context


@dataclass(frozen=True)
class PendingRelease:
    """A committed release whose file has not been reported as arrived."""

    publication_id: str
    purpose: str
    output_name: str
    output_sha256: str
    input_sha256: str
    output_dir: str | None
    input_path: str | None


def pending_releases(ctx: Context) -> list[PendingRelease]:
    """Releases committed but not known to have reached their folder (oldest first)."""
    rows = ctx.session.execute(
        select(Publication, Purpose.code)
        .join(Purpose, Purpose.id == Publication.purpose_id)
        .where(Publication.delivery == PENDING)
        .order_by(Publication.decided_at, Publication.id)
    )
    return [
        PendingRelease(
            pub.id,
            code,
            pub.output_name or "",
            pub.output_sha256 or "",
            pub.input_sha256,
            _decrypted_path(ctx, pub, "output_dir", pub.output_dir_ct),
            _decrypted_path(ctx, pub, "input_path", pub.input_path_ct),
        )
        for pub, code in rows
    ]


def _decrypted_path(ctx: Context, pub: Publication, column: str, ct: bytes | None) -> str | None:
    if ct is None:
        return None
    return ctx.keys.decrypt(ct, table="publications", column=column, row_id=pub.id)


def mark_delivered(ctx: Context, *, publication_ids: list[str]) -> None:
    """The released files of these publications have their final names in their folder."""
    _set_delivery(ctx, publication_ids, DELIVERED, reason=None)


def mark_failed(ctx: Context, *, publication_id: str, reason: str) -> None:
    """The released file could not be written and cannot be written again: the release is void
    (it never reached its folder, so it is on no take-down list). `reason` is a code."""
    _set_delivery(ctx, [publication_id], FAILED, reason=reason)


def _set_delivery(ctx: Context, ids: list[str], state: str, *, reason: str | None) -> None:
    """One UPDATE for the releases still in another state (an arrival reported twice, by a
    repair and the run that wrote it, changes nothing), then an event for each it changed."""
    changed = set(
        ctx.session.scalars(
            update(Publication)
            .where(
                Publication.id.in_(ids),
                Publication.decision == RELEASED,
                Publication.delivery.is_not(None),
                Publication.delivery != state,
            )
            .values(delivery=state)
            .returning(Publication.id)
            .execution_options(synchronize_session=False)
        )
    )
    if len(changed) < len(set(ids)):
        _check_unchanged(ctx, [pid for pid in ids if pid not in changed], state)
    why = {"reason": reason} if reason else {}
    for pid in ids:
        if pid in changed:
            row = {"publications": {"id": pid, "delivery": state}}
            audit_log.record(ctx, "publication.delivery", row, payload=why)


def _check_unchanged(ctx: Context, ids: list[str], state: str) -> None:
    """The IDs the update left alone must be releases already in that state."""
    found = dict(
        ctx.session.execute(
            select(Publication.id, Publication.delivery).where(Publication.id.in_(ids))
        ).all()
    )
    for pid in ids:
        if pid not in found:
            raise NotFoundError(msg("unknown publication {pid!r}", pid=pid))
        if found[pid] != state:
            raise InvalidInputError(
                msg("publication {pid} is not a release awaiting its file", pid=pid)
            )
