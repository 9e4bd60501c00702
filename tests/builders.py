"""Plain helpers that set up state through the services (no table poking)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from consentreg.domain.model import EventKind
from consentreg.services import consents, people, purposes, units
from consentreg.services.evidence import EvidenceFile, read_evidence
from consentreg.services.unit_of_work import Context

NOTICE = "Vi publiserer bilder på kommunens Facebook-side. Samtykket kan trekkes tilbake.\n"


def purpose(ctx: Context, code: str = "facebook", **settings: object) -> str:
    return purposes.add_purpose(ctx, code=code, title=code.title(), notice_text=NOTICE, **settings)  # type: ignore[arg-type]


def unit(ctx: Context, code: str = "bhg") -> str:
    return units.add_unit(ctx, code=code, name="Solsikken barnehage")


def person(
    ctx: Context,
    name: str,
    born: str,
    *,
    kind: str = "child",
    ref: str | None = None,
    unit_code: str | None = None,
) -> str:
    # look-alike people (several families of "Emma Nordmann") are set up freely here: the
    # likely-duplicate check has tests of its own (tests/services/test_corrections.py)
    return people.add_person(
        ctx,
        name=name,
        born=date.fromisoformat(born),
        kind=kind,
        ref=ref,
        unit=unit_code,
        allow_duplicate=True,
    )


def family(
    ctx: Context, *, child_born: str = "2021-03-14", guardians: int = 2
) -> tuple[str, list[str]]:
    """A child with `guardians` guardians holding parental responsibility."""
    child = person(ctx, "Emma Nordmann", child_born)
    adults = [
        person(ctx, f"Forelder{i} Nordmann", "1988-05-0" + str(i + 1), kind="adult")
        for i in range(guardians)
    ]
    for adult in adults:
        people.add_guardian(ctx, child=child, guardian=adult)
    return child, adults


def grant(
    ctx: Context,
    subject: str,
    by: str,
    *,
    purpose_code: str = "facebook",
    given: str = "2026-09-01",
    until: str | None = None,
) -> str:
    return consents.record_decision(
        ctx,
        subject=subject,
        purpose=purpose_code,
        by=by,
        kind=EventKind.GRANT,
        given=date.fromisoformat(given),
        until=date.fromisoformat(until) if until else None,
    )


def refuse(
    ctx: Context,
    subject: str,
    by: str,
    *,
    purpose_code: str = "facebook",
    given: str = "2026-09-01",
) -> str:
    return consents.record_decision(
        ctx,
        subject=subject,
        purpose=purpose_code,
        by=by,
        kind=EventKind.REFUSAL,
        given=date.fromisoformat(given),
    )


@contextmanager
def scan(data: bytes, name: str = "skjema.pdf") -> Iterator[EvidenceFile]:
    """An evidence file with these bytes, checked as `--evidence` checks it; the file is there
    until the block ends (a consent reads it again when it stores it)."""
    with tempfile.TemporaryDirectory(prefix="consentreg-scan-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        yield read_evidence(path)
