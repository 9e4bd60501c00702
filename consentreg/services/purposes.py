"""Purposes (channels) with versioned notice texts, size limits and guardian policies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from consentreg.crypto import sha256_hex
from consentreg.db.models import NoticeVersion, Purpose
from consentreg.domain import model, text
from consentreg.domain.model import DEFAULT_MAX_PX
from consentreg.errors import InvalidInputError
from consentreg.i18n import msg
from consentreg.services.access import require
from consentreg.services.audit import log as audit_log
from consentreg.services.unit_of_work import Context, new_id
from consentreg.services.units import check_code

_MMDD = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


@dataclass(frozen=True)
class PurposeView:
    id: str
    code: str
    title: str
    max_px: int
    guardians: str
    validity: str
    notice_version: int
    notice_sha256: str


def purpose_by_code(ctx: Context, code: str) -> Purpose:
    purpose = (
        ctx.session.scalar(select(Purpose).where(Purpose.code == code))
        if text.is_key(code)
        else None
    )
    if purpose is None:
        raise InvalidInputError(
            msg("unknown purpose {code!r}: see `consentreg purpose list`", code=code)
        )
    return purpose


def _check_notice(notice: str) -> str:
    if not notice.strip():
        raise InvalidInputError("the notice text is empty")
    return text.check_text(notice, field="the notice text", limit=text.NOTICE)


def add_purpose(
    ctx: Context,
    *,
    code: str,
    title: str,
    notice_text: str,
    max_px: int = DEFAULT_MAX_PX,
    guardians: str = "all",
    valid_until: str | None = None,
    valid_days: int | None = None,
) -> str:
    """Register a channel with its first notice text (version 1)."""
    require(ctx, "purpose.add")
    check_code(code, what="purpose")
    notice_text = _check_notice(notice_text)
    if ctx.session.scalar(select(Purpose.id).where(Purpose.code == code)):
        raise InvalidInputError(msg("purpose {code!r} already exists", code=code))
    _check_settings(
        title=title,
        max_px=max_px,
        guardians=guardians,
        valid_until=valid_until,
        valid_days=valid_days,
    )
    purpose = Purpose(
        id=new_id(),
        code=code,
        title=title.strip(),
        max_px=max_px,
        guardian_policy=guardians,
        valid_until_mmdd=valid_until,
        valid_days=valid_days,
        created_at=ctx.now,
        created_by=ctx.actor,
    )
    ctx.session.add(purpose)
    ctx.session.flush()
    audit_log.record(ctx, "purpose.add", {"purposes": purpose})
    _add_notice(ctx, purpose, notice_text, requires_new_consent=False)
    return purpose.id


def _check_settings(
    *, title: str, max_px: int, guardians: str, valid_until: str | None, valid_days: int | None
) -> None:
    if not title.strip():
        raise InvalidInputError("purpose title is empty")
    text.check_line(title.strip(), field="--title", limit=text.TITLE)
    if not 16 <= max_px <= 10_000:
        raise InvalidInputError(msg("--max-px {max_px} is out of range (16-10000)", max_px=max_px))
    if guardians not in ("all", "any"):
        raise InvalidInputError(
            msg("--guardians must be 'all' or 'any', not {guardians!r}", guardians=guardians)
        )
    if valid_until is not None and valid_days is not None:
        raise InvalidInputError("give --valid-until or --valid-days, not both")
    if valid_until is not None and not _MMDD.match(valid_until):
        raise InvalidInputError(
            msg("--valid-until {valid_until!r} is not MM-DD", valid_until=valid_until)
        )
    if valid_days is not None and not 1 <= valid_days <= 3660:
        raise InvalidInputError(
            msg("--valid-days {valid_days} is out of range (1-3660)", valid_days=valid_days)
        )


def _add_notice(ctx: Context, purpose: Purpose, body: str, *, requires_new_consent: bool) -> int:
    version = (
        ctx.session.scalar(
            select(func.max(NoticeVersion.version)).where(NoticeVersion.purpose_id == purpose.id)
        )
        or 0
    ) + 1
    notice = NoticeVersion(
        id=new_id(),
        purpose_id=purpose.id,
        version=version,
        text=body,
        sha256=sha256_hex(body.encode()),
        requires_new_consent=requires_new_consent,
        created_at=ctx.now,
        created_by=ctx.actor,
    )
    ctx.session.add(notice)
    ctx.session.flush()
    audit_log.record(ctx, "purpose.notice", {"notice_versions": notice})
    return version


def revise_purpose(ctx: Context, *, code: str, notice_text: str, requires_new_consent: bool) -> int:
    """Add a new notice version; with requires_new_consent older consents stop sufficing."""
    require(ctx, "purpose.notice")
    notice_text = _check_notice(notice_text)
    purpose = purpose_by_code(ctx, code)
    latest = current_notice(ctx, purpose.id, at=ctx.now)
    if latest.sha256 == sha256_hex(notice_text.encode()):
        raise InvalidInputError(
            msg(
                "the notice text is identical to version {latest_version}",
                latest_version=latest.version,
            )
        )
    return _add_notice(ctx, purpose, notice_text, requires_new_consent=requires_new_consent)


def notice_timeline(ctx: Context, purpose_id: str) -> list[tuple[datetime, int]]:
    """(created_at, version) of every notice version of a purpose, oldest first."""
    rows = ctx.session.execute(
        select(NoticeVersion.created_at, NoticeVersion.version)
        .where(NoticeVersion.purpose_id == purpose_id)
        .order_by(NoticeVersion.version)
    )
    return [(created, version) for created, version in rows]


def version_at(timeline: list[tuple[datetime, int]], at: datetime) -> int:
    """The newest version in force at the instant; before the purpose existed, its first."""
    in_force = [version for created, version in timeline if created <= at]
    return in_force[-1] if in_force else timeline[0][1]


def current_notice(ctx: Context, purpose_id: str, *, at: datetime) -> NoticeVersion:
    """The newest notice version in force at the instant."""
    version = version_at(notice_timeline(ctx, purpose_id), at)
    return ctx.session.scalars(
        select(NoticeVersion).where(
            NoticeVersion.purpose_id == purpose_id, NoticeVersion.version == version
        )
    ).one()


def domain_purpose(ctx: Context, purpose: Purpose, *, at: datetime) -> model.Purpose:
    """The purpose as the rules see it at an instant (oldest sufficient notice version)."""
    min_version = ctx.session.scalar(
        select(func.max(NoticeVersion.version)).where(
            NoticeVersion.purpose_id == purpose.id,
            NoticeVersion.requires_new_consent.is_(True),
            NoticeVersion.created_at <= at,
        )
    )
    return model.Purpose(
        code=purpose.code,
        guardian_policy=model.GuardianPolicy(purpose.guardian_policy),
        min_notice_version=min_version or 1,
    )


def list_purposes(ctx: Context) -> list[PurposeView]:
    require(ctx, "read.register")
    views = []
    for p in ctx.session.scalars(select(Purpose).order_by(Purpose.code)):
        notice = current_notice(ctx, p.id, at=ctx.now)
        validity = (
            msg("until {mmdd}", mmdd=p.valid_until_mmdd)
            if p.valid_until_mmdd
            else msg("{days} days", days=p.valid_days)
            if p.valid_days
            else msg("until {mmdd}", mmdd="07-31")
        )
        views.append(
            PurposeView(
                p.id,
                p.code,
                p.title,
                p.max_px,
                p.guardian_policy,
                validity,
                notice.version,
                notice.sha256,
            )
        )
    return views
