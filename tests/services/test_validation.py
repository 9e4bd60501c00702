"""User text is checked in the services, the same way on SQLite and PostgreSQL: PostgreSQL would
refuse a NUL or a title over its VARCHAR(200) with a driver error, SQLite would store both. Each
refusal is an InvalidInputError naming the field and the limit, and leaves nothing written.
Evidence files and CSV imports: what is refused, and on which line."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import InstrumentedAttribute

from consentreg.db.models import AuditEvent, NoticeVersion, Person, Purpose, Unit
from consentreg.domain.model import EventKind
from consentreg.errors import InvalidInputError, NotFoundError
from consentreg.services import consents, imports, people, photos, purposes, units
from consentreg.services.evidence import MAX_EVIDENCE_BYTES, read_evidence
from consentreg.services.unit_of_work import Context
from tests import builders
from tests.conftest import ContextFactory

NOTICE = builders.NOTICE


def now() -> datetime:
    return datetime.now(UTC)


def born(years: int) -> date:
    return date.today() - timedelta(days=365 * years + 30)


def count(engine: Engine, column: InstrumentedAttribute[Any]) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count(column))) or 0)


def refused(
    unit_of_work: ContextFactory, action: Callable[..., object], message: str
) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught, unit_of_work(now=now()) as ctx:
        action(ctx)
    assert str(caught.value) == message
    return caught.value


# --- purposes: the two cases of the issue -----------------------------------------------------


def test_a_title_over_200_characters_is_refused_alike_on_both_engines(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    def add(ctx: Context) -> object:
        return purposes.add_purpose(ctx, code="web", title="T" * 201, notice_text=NOTICE)

    refused(unit_of_work, add, "--title is longer than 200 characters")
    assert count(engine, Purpose.id) == count(engine, AuditEvent.seq) == 0


def test_a_title_of_exactly_200_characters_is_kept_whole(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    with unit_of_work(now=now()) as ctx:
        purposes.add_purpose(ctx, code="web", title="T" * 200, notice_text=NOTICE)
    with engine.connect() as conn:
        assert conn.scalar(select(Purpose.title)) == "T" * 200


def test_a_nul_in_a_notice_text_is_refused_alike_on_both_engines(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    def add(ctx: Context) -> object:
        return purposes.add_purpose(ctx, code="web", title="Web", notice_text="Vi\x00publiserer")

    refused(unit_of_work, add, "the notice text contains a NUL character")
    assert count(engine, Purpose.id) == count(engine, NoticeVersion.id) == 0
    assert count(engine, AuditEvent.seq) == 0


def test_a_revised_notice_with_a_nul_leaves_the_purpose_at_its_version(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    with unit_of_work(now=now()) as ctx:
        builders.purpose(ctx)

    def revise(ctx: Context) -> object:
        return purposes.revise_purpose(
            ctx,
            code="facebook",
            notice_text=NOTICE + "\x00",
            requires_new_consent=False,
        )

    refused(unit_of_work, revise, "the notice text contains a NUL character")
    assert count(engine, NoticeVersion.id) == 1


def test_a_notice_text_keeps_its_line_breaks_and_tabs_even_windows_ones(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    notice = "Overskrift\r\n\tVi publiserer bilder.\r\nSamtykket kan trekkes.\r\n"
    with unit_of_work(now=now()) as ctx:
        purposes.add_purpose(ctx, code="web", title="Web", notice_text=notice)
    with engine.connect() as conn:
        assert conn.scalar(select(NoticeVersion.text)) == notice


def test_a_notice_text_over_the_limit_is_refused(unit_of_work: ContextFactory) -> None:
    def add(ctx: Context) -> object:
        return purposes.add_purpose(ctx, code="web", title="Web", notice_text="x" * 100_001)

    refused(unit_of_work, add, "the notice text is longer than 100000 characters")


# --- units, people, consents, photos ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "name", "message"),
    [
        ("bhg", "Sol\x1bsikken", "--name contains a control character (U+001B)"),
        ("bhg", "Sol\nsikken", "--name contains a control character (U+000A)"),
        ("bhg", "S" * 201, "--name is longer than 200 characters"),
        ("bhg\n", "Solsikken", "unit code 'bhg\\n' is not valid: use lower-case letters, digits,"),
        ("b" * 65, "Solsikken", "unit code '" + "b" * 65 + "' is not valid: use lower-case"),
    ],
)
def test_a_unit_name_or_code_that_cannot_be_stored_alike_is_refused(
    unit_of_work: ContextFactory, engine: Engine, code: str, name: str, message: str
) -> None:
    with pytest.raises(InvalidInputError) as caught, unit_of_work(now=now()) as ctx:
        units.add_unit(ctx, code=code, name=name)
    assert str(caught.value).startswith(message)
    assert count(engine, Unit.id) == 0


@pytest.mark.parametrize(
    ("name", "ref", "message"),
    [
        ("Emma\x00Nordmann", None, "--name contains a NUL character"),
        ("Emma \x7fNordmann", None, "--name contains a control character (U+007F)"),
        ("Emma Nordmann", "K" * 65, "--ref is longer than 64 characters"),
        ("Emma Nordmann", "K\x1b1", "--ref contains a control character (U+001B)"),
        ("Emma \udcff", None, "--name is not valid UTF-8 text"),
    ],
)
def test_a_person_with_a_name_or_ref_that_cannot_be_stored_alike_is_refused(
    unit_of_work: ContextFactory, engine: Engine, name: str, ref: str | None, message: str
) -> None:
    def add(ctx: Context) -> object:
        return people.add_person(ctx, name=name, born=born(5), ref=ref)

    refused(unit_of_work, add, message)
    assert count(engine, Person.id) == 0


def test_tabs_and_line_breaks_in_a_name_become_single_spaces(
    unit_of_work: ContextFactory,
) -> None:
    with unit_of_work(now=now()) as ctx:
        pid = people.add_person(ctx, name="Emma\t\nNordmann", born=born(5))
    with unit_of_work(now=now(), writer=False) as ctx:
        assert people.show_person(ctx, pid).name == "Emma Nordmann"


def test_a_restriction_reason_with_a_nul_is_refused(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    with unit_of_work(now=now()) as ctx:
        pid = builders.person(ctx, "Emma Nordmann", born(5).isoformat())

    def restrict(ctx: Context) -> object:
        return people.set_protected(ctx, pid, protected=True, reason="beskyttet\x00")

    refused(unit_of_work, restrict, "--reason contains a NUL character")
    with engine.connect() as conn:
        assert conn.scalar(select(Person.protected)) is False


def test_a_withdrawal_reason_may_span_lines_but_not_hold_a_nul(
    unit_of_work: ContextFactory,
) -> None:
    given = date.today() - timedelta(days=3)
    with unit_of_work(now=now()) as ctx:
        builders.purpose(ctx)
        child, (mother, _) = builders.family(ctx, child_born=born(5).isoformat())
        grant = consents.record_decision(
            ctx, subject=child, purpose="facebook", by=mother, kind=EventKind.GRANT, given=given
        )

    def withdraw(ctx: Context) -> object:
        return consents.withdraw(ctx, consent_id=grant, reason="e-post\x00fra mor")

    refused(unit_of_work, withdraw, "--reason contains a NUL character")
    with unit_of_work(now=now()) as ctx:
        consents.withdraw(ctx, consent_id=grant, reason="E-post fra mor:\n\tikke mer Facebook")


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 140, 200)).save(buf, "JPEG")
    return buf.getvalue()


def test_a_photographer_with_a_control_character_is_refused_before_the_image_is_read(
    unit_of_work: ContextFactory,
) -> None:
    def add(ctx: Context) -> object:
        files = [photos.PhotoInput("p.jpg", jpeg())]
        return photos.add_photos(ctx, files=files, photographer="Kari\x1b[2J")

    refused(unit_of_work, add, "--photographer contains a control character (U+001B)")


def test_a_region_longer_than_its_column_is_refused(unit_of_work: ContextFactory) -> None:
    with unit_of_work(now=now()) as ctx:
        child = builders.person(ctx, "Emma Nordmann", born(5).isoformat())
        (photo,) = photos.add_photos(
            ctx, files=[photos.PhotoInput("p.jpg", jpeg())], photographer="Kari"
        )
    region = ",".join(["0." + "0" * 20 + "1"] * 4)

    def tag(ctx: Context) -> None:
        photos.tag_photo(ctx, photo_id=photo, subject=child, region=region)

    refused(unit_of_work, tag, "--region is longer than 64 characters")


@pytest.mark.parametrize(
    ("look_up", "error"),
    [
        (lambda ctx: units.unit_by_code(ctx, "bhg\x00"), InvalidInputError),
        (lambda ctx: purposes.purpose_by_code(ctx, "face\x00book"), InvalidInputError),
        (lambda ctx: people.resolve_person(ctx, "0" * 31 + "\x00"), NotFoundError),
        (lambda ctx: photos.photo_by_id(ctx, "\x00"), NotFoundError),
        (lambda ctx: consents.withdraw(ctx, consent_id="\x00"), NotFoundError),
    ],
)
def test_a_look_up_with_a_key_that_cannot_exist_finds_nothing_on_both_engines(
    unit_of_work: ContextFactory, look_up: Callable[..., object], error: type[Exception]
) -> None:
    with pytest.raises(error), unit_of_work(now=now()) as ctx:
        look_up(ctx)


# --- evidence files -----------------------------------------------------------------------------


def test_an_evidence_file_with_content_is_read(tmp_path: Path) -> None:
    path = tmp_path / "skjema.txt"
    path.write_bytes(b"x")
    found = read_evidence(path)
    assert (found.size, found.sha256) == (1, hashlib.sha256(b"x").hexdigest())


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def _link_to_environ(tmp_path: Path) -> Path:
    path = tmp_path / "innocent.pdf"
    path.symlink_to("/proc/self/environ")
    return path


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.pdf"
    path.touch()
    return path


def _too_large(tmp_path: Path) -> Path:
    path = tmp_path / "huge.pdf"
    with path.open("wb") as fh:
        fh.truncate(MAX_EVIDENCE_BYTES + 1)  # sparse: no 100 MB written
    return path


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (_empty, "is empty"),
        (_too_large, "is larger than 100 MB, the limit for evidence"),
        (lambda tmp: tmp, "is not a regular file (a folder, a device or a pipe)"),
        (_fifo, "is not a regular file (a folder, a device or a pipe)"),
        (lambda _: Path("/proc/self/environ"), "is under /proc: not a document"),
        (_link_to_environ, "is under /proc: not a document"),
        (lambda _: Path("/dev/null"), "is under /dev: not a document"),
        (lambda _: Path("/sys/kernel/uevent_seqnum"), "is under /sys: not a document"),
        (lambda tmp: tmp / "missing.pdf", "does not exist or cannot be reached"),
    ],
    ids=[
        "empty",
        "too-large",
        "folder",
        "fifo",
        "proc",
        "symlink-to-proc",
        "dev",
        "sys",
        "missing",
    ],
)
def test_evidence_that_is_no_document_is_refused_naming_why(
    tmp_path: Path, make: Callable[[Path], Path], problem: str
) -> None:
    path = make(tmp_path)
    if not os.path.lexists(path) and "missing" not in str(path):
        pytest.skip(f"{path} does not exist here")
    with pytest.raises(InvalidInputError) as caught:
        read_evidence(path)
    assert str(caught.value) == f"evidence file {path} {problem}"


# --- CSV imports --------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_overlong_csv_field_is_reported_on_its_own_line(
    unit_of_work: ContextFactory, engine: Engine, tmp_path: Path
) -> None:
    day = born(6).isoformat()
    csv_text = (
        f"ref,name,born\nK1,Emma Nordmann,{day}\nK2,Ola Nordmann,{day}\n"
        f"K3,{'x' * 200_000},{day}\nK4,Kari Nordmann,{day}\n"
    )
    path = write(tmp_path, "people.csv", csv_text)
    with pytest.raises(InvalidInputError) as caught, unit_of_work(now=now()) as ctx:
        imports.import_people(ctx, path)
    assert str(caught.value).startswith("people.csv, line 4: field larger than field limit")
    assert count(engine, Person.id) == 0


def test_an_overlong_field_after_a_multi_line_field_is_reported_on_its_own_line(
    unit_of_work: ContextFactory, tmp_path: Path
) -> None:
    day = born(6).isoformat()
    csv_text = (
        f'ref,name,born\nK1,"Emma\nNordmann",{day}\nK2,"{"x" * 200_000}",{day}\nK3,Ola,{day}\n'
    )
    with pytest.raises(InvalidInputError) as caught, unit_of_work(now=now()) as ctx:
        imports.import_people(ctx, write(tmp_path, "people.csv", csv_text))
    assert str(caught.value).startswith("people.csv, line 4: field larger than field limit")


def test_names_and_refs_that_cannot_be_stored_are_reported_by_line_and_column(
    unit_of_work: ContextFactory, engine: Engine, tmp_path: Path
) -> None:
    day = born(6).isoformat()
    csv_text = (
        f"ref,name,born\nK1,Emma Nordmann,{day}\nK2,{'N' * 201},{day}\n"
        f"{'R' * 65},Ola Nordmann,{day}\nK4,Kari\x00Nordmann,{day}\nK5,Per\x1bNordmann,{day}\n"
    )
    with pytest.raises(InvalidInputError) as caught, unit_of_work(now=now()) as ctx:
        imports.import_people(ctx, write(tmp_path, "people.csv", csv_text))
    message = str(caught.value)
    for expected in (
        "line 3, column name: is longer than 200 characters",
        "line 4, column ref: is longer than 64 characters",
        "line 5, column name: contains a NUL character",
        "line 6, column name: contains a control character (U+001B)",
    ):
        assert expected in message
    assert "N" * 201 not in message
    assert "Kari" not in message
    assert "4 problem(s)" in message
    assert count(engine, Person.id) == 0


def test_empty_or_device_evidence_in_a_consents_import_is_reported_by_line(
    unit_of_work: ContextFactory, tmp_path: Path
) -> None:
    given = (date.today() - timedelta(days=2)).isoformat()
    with unit_of_work(now=now()) as ctx:
        builders.purpose(ctx)
        builders.person(ctx, "Emma Nordmann", born(5).isoformat(), ref="K1")
        builders.person(ctx, "Mor Nordmann", born(35).isoformat(), kind="adult", ref="G1")
        people.add_guardian(ctx, child="ref:K1", guardian="ref:G1")
    _empty(tmp_path)
    csv_text = (
        "subject_ref,purpose,by_ref,decision,method,given,until,evidence\n"
        f"K1,facebook,G1,grant,paper,{given},,empty.pdf\n"
        f"K1,facebook,G1,grant,paper,{given},,/proc/self/environ\n"
    )
    with pytest.raises(InvalidInputError) as caught, unit_of_work(now=now()) as ctx:
        imports.import_consents(ctx, write(tmp_path, "c.csv", csv_text))
    message = str(caught.value)
    assert "line 2, column evidence: file is empty" in message
    assert "line 3, column evidence: file is under /proc: not a document" in message


# --- file names that were not UTF-8 -------------------------------------------------------------


def test_a_photo_whose_file_name_was_not_utf8_is_registered_with_a_replacement_character(
    unit_of_work: ContextFactory,
) -> None:
    name = b"IMG-\xe6\xf8.jpg".decode(
        "utf-8", "surrogateescape"
    )  # a Latin-1 name, as Linux gives it
    with unit_of_work(now=now()) as ctx:
        (photo,) = photos.add_photos(
            ctx, files=[photos.PhotoInput(name, jpeg())], photographer="Kari"
        )
    with unit_of_work(now=now(), writer=False) as ctx:
        assert photos.show_photo(ctx, photo_id=photo).original_name == "IMG-\ufffd\ufffd.jpg"


def test_an_evidence_file_whose_name_was_not_utf8_is_read(tmp_path: Path) -> None:
    path = Path(os.fsdecode(os.fsencode(tmp_path) + b"/skjema-\xe6.pdf"))
    path.write_bytes(b"%PDF-1.4")
    assert read_evidence(path).name == "skjema-\ufffd.pdf"


def test_a_ref_that_was_not_utf8_finds_nobody(unit_of_work: ContextFactory) -> None:
    with pytest.raises(NotFoundError), unit_of_work(now=now(), writer=False) as ctx:
        people.resolve_person(ctx, "ref:" + b"\xff".decode("utf-8", "surrogateescape"))
