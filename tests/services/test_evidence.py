"""Evidence lives in the register: stored with the consent it proves, in its transaction, once per
content, encrypted in chunks; read back only through `save_evidence`, which is recorded; checked
by `audit verify`."""

from __future__ import annotations

import hashlib
import json
import os
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from consentreg.db.models import AuditEvent, Evidence, EvidenceChunk
from consentreg.domain.model import EventKind
from consentreg.errors import InvalidInputError, NotFoundError, TamperedDataError
from consentreg.services import consents, imports, people
from consentreg.services.audit.verify import verify_log
from consentreg.services.evidence import CHUNK_BYTES, read_evidence
from consentreg.services.evidence_copy import save_evidence
from consentreg.services.unit_of_work import Register
from tests import builders
from tests.conftest import ContextFactory
from tests.services.test_audit_verify import tamper

SCAN = b"%PDF-1.4 signed form: Emma Nordmann\n"


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608


def family(unit_of_work: ContextFactory) -> tuple[str, str]:
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        builders.purpose(ctx, "yearbook")
        child, (mother, _) = builders.family(ctx)
    return child, mother


def grant(
    unit_of_work: ContextFactory,
    child: str,
    mother: str,
    data: bytes = SCAN,
    *,
    name: str = "skjema.pdf",
    purpose: str = "facebook",
) -> str:
    with builders.scan(data, name) as scan, unit_of_work() as ctx:
        return consents.record_decision(
            ctx, subject=child, purpose=purpose, by=mother, kind=EventKind.GRANT, evidence=scan
        )


def findings(unit_of_work: ContextFactory) -> list[tuple[str, str | None, str | None]]:
    with unit_of_work(writer=False) as ctx:
        report = verify_log(ctx)
    return [(f.kind, f.table, f.row) for f in report.findings]


# --- stored with the consent --------------------------------------------------------------------


def test_evidence_is_stored_encrypted_in_the_register_and_no_file_in_the_home_folder(
    unit_of_work: ContextFactory, open_register: Register, engine: Engine, tmp_path: Path
) -> None:
    child, mother = family(unit_of_work)
    grant(unit_of_work, child, mother)
    with unit_of_work(writer=False) as ctx:
        (view,) = consents.list_consents(ctx)
    assert view.evidence_sha256 == hashlib.sha256(SCAN).hexdigest()
    assert (count(engine, "evidence_blobs"), count(engine, "evidence_chunks")) == (1, 1)
    with engine.connect() as conn:
        stored = bytes(conn.execute(select(EvidenceChunk.data)).scalar_one())
    assert b"Nordmann" not in stored
    assert not open_register.settings.evidence_dir.exists()
    out = tmp_path / "copy.pdf"
    save_evidence(open_register, consent_id=view.id, out=out)
    assert out.read_bytes() == SCAN
    assert findings(unit_of_work) == []


def test_a_failing_use_case_leaves_neither_consent_nor_evidence(
    unit_of_work: ContextFactory, engine: Engine
) -> None:
    child, mother = family(unit_of_work)
    with pytest.raises(InvalidInputError), builders.scan(SCAN) as scan, unit_of_work() as ctx:
        consents.record_decision(
            ctx, subject=child, purpose="facebook", by=mother, kind=EventKind.GRANT, evidence=scan
        )
        builders.grant(ctx, child, mother, given="2030-01-01")  # fails: in the future
    for table in ("consent_events", "evidence", "evidence_blobs", "evidence_chunks"):
        assert count(engine, table) == 0, table


def test_the_same_scan_given_twice_is_stored_once_and_each_consent_keeps_its_own_name(
    unit_of_work: ContextFactory, open_register: Register, engine: Engine, tmp_path: Path
) -> None:
    child, mother = family(unit_of_work)
    first = grant(unit_of_work, child, mother, name="skjema.pdf")
    second = grant(unit_of_work, child, mother, name="kopi.pdf", purpose="yearbook")
    assert (count(engine, "evidence"), count(engine, "evidence_blobs")) == (2, 1)
    with unit_of_work(writer=False) as ctx:
        names = {
            row.id: ctx.keys.decrypt(row.name_ct, table="evidence", column="name", row_id=row.id)
            for row in ctx.session.scalars(select(Evidence))
        }
    assert sorted(names.values()) == ["kopi.pdf", "skjema.pdf"]
    for n, consent in enumerate((first, second)):
        save_evidence(open_register, consent_id=consent, out=tmp_path / f"{n}.pdf")
        assert (tmp_path / f"{n}.pdf").read_bytes() == SCAN
    assert findings(unit_of_work) == []


def test_an_import_stores_each_distinct_scan_once_in_its_transaction(
    unit_of_work: ContextFactory, engine: Engine, tmp_path: Path
) -> None:
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        builders.person(ctx, "Emma Nordmann", "2021-03-14", ref="K1")
        builders.person(ctx, "Mor Nordmann", "1988-01-01", kind="adult", ref="G1")
        people.add_guardian(ctx, child="ref:K1", guardian="ref:G1")
    (tmp_path / "a.pdf").write_bytes(os.urandom(CHUNK_BYTES + 10))
    (tmp_path / "b.pdf").write_bytes(b"another scan")
    csv = tmp_path / "c.csv"
    csv.write_text(
        "subject_ref,purpose,by_ref,decision,method,given,until,evidence\n"
        "K1,facebook,G1,grant,paper,,,a.pdf\n"
        "K1,facebook,G1,refusal,paper,,,a.pdf\n"
        "K1,facebook,G1,grant,paper,,,b.pdf\n",
        encoding="utf-8",
    )
    with unit_of_work() as ctx:
        imports.import_consents(ctx, csv)
    assert (count(engine, "evidence"), count(engine, "evidence_blobs")) == (3, 2)
    assert count(engine, "evidence_chunks") == 3
    assert findings(unit_of_work) == []


def test_an_import_larger_than_a_batch_chunk_stores_each_scan_once(
    unit_of_work: ContextFactory, engine: Engine, tmp_path: Path
) -> None:
    """Several chunks of rows (on PostgreSQL each copied on a thread while the next is staged,
    and the scans looked up and stored in between)."""
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        builders.person(ctx, "Emma Nordmann", "2021-03-14", ref="K1")
        builders.person(ctx, "Mor Nordmann", "1988-01-01", kind="adult", ref="G1")
        people.add_guardian(ctx, child="ref:K1", guardian="ref:G1")
    for n in range(4):
        (tmp_path / f"{n}.pdf").write_bytes(f"scan {n}".encode())
    rows = [f"K1,facebook,G1,grant,paper,,,{n % 4}.pdf\n" for n in range(2400)]
    csv = tmp_path / "c.csv"
    csv.write_text(
        "subject_ref,purpose,by_ref,decision,method,given,until,evidence\n" + "".join(rows),
        encoding="utf-8",
    )
    with unit_of_work() as ctx:
        imports.import_consents(ctx, csv)
    assert (count(engine, "evidence"), count(engine, "evidence_blobs")) == (2400, 4)
    assert findings(unit_of_work) == []


def test_a_file_changed_between_its_check_and_its_storing_is_refused(
    unit_of_work: ContextFactory, engine: Engine, tmp_path: Path
) -> None:
    child, mother = family(unit_of_work)
    path = tmp_path / "skjema.pdf"
    path.write_bytes(SCAN)
    checked = read_evidence(path)
    path.write_bytes(SCAN.replace(b"Emma", b"Anna"))
    with pytest.raises(InvalidInputError, match="changed"), unit_of_work() as ctx:
        consents.record_decision(
            ctx,
            subject=child,
            purpose="facebook",
            by=mother,
            kind=EventKind.GRANT,
            evidence=checked,
        )
    assert count(engine, "evidence_blobs") == 0


def test_the_evidence_tables_are_append_only(unit_of_work: ContextFactory, engine: Engine) -> None:
    child, mother = family(unit_of_work)
    grant(unit_of_work, child, mother)
    for statement in (
        "UPDATE evidence_chunks SET idx = 5",
        "DELETE FROM evidence_chunks",
        "UPDATE evidence_blobs SET size = 1",
        "DELETE FROM evidence_blobs",
    ):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


# --- streaming ----------------------------------------------------------------------------------


def test_a_50_mb_scan_is_stored_and_read_back_in_bounded_memory(
    unit_of_work: ContextFactory, open_register: Register, tmp_path: Path
) -> None:
    child, mother = family(unit_of_work)
    path, size = tmp_path / "stor.pdf", 50 * 1024 * 1024
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        for n in range(size // CHUNK_BYTES):
            piece = n.to_bytes(4, "big") * (CHUNK_BYTES // 4)
            digest.update(piece)
            fh.write(piece)
    tracemalloc.start()
    try:
        evidence = read_evidence(path)
        with unit_of_work() as ctx:
            consent = consents.record_decision(
                ctx,
                subject=child,
                purpose="facebook",
                by=mother,
                kind=EventKind.GRANT,
                evidence=evidence,
            )
        copy = save_evidence(open_register, consent_id=consent, out=tmp_path / "copy.pdf")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
    assert (evidence.sha256, copy.sha256, copy.size) == (digest.hexdigest(),) * 2 + (size,)
    with (tmp_path / "copy.pdf").open("rb") as fh:
        assert hashlib.file_digest(fh, "sha256").hexdigest() == digest.hexdigest()


# --- read back ----------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Where the scans are written (the test's register lives beside it)."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def test_a_scan_read_back_is_a_new_private_file_and_the_reading_is_logged_without_its_name(
    unit_of_work: ContextFactory, open_register: Register, engine: Engine, folder: Path
) -> None:
    child, mother = family(unit_of_work)
    consent = grant(unit_of_work, child, mother, os.urandom(2 * CHUNK_BYTES + 7))
    out = folder / "Emma-skjema.pdf"
    copy = save_evidence(open_register, consent_id=consent[:8], out=out)
    assert copy.consent_id == consent
    assert out.stat().st_mode & 0o777 == 0o600
    assert hashlib.sha256(out.read_bytes()).hexdigest() == copy.sha256
    assert [p.name for p in folder.iterdir()] == [out.name]  # no temporary file left
    with engine.connect() as conn:
        event = conn.execute(select(AuditEvent).where(AuditEvent.action == "evidence.read")).one()
    assert json.loads(event.object_ids) == {"consent": consent, "evidence": copy.evidence_id}
    assert "Emma" not in event.object_ids + event.payload
    assert str(folder) not in event.payload
    assert findings(unit_of_work) == []


def test_a_scan_is_never_written_over_an_existing_file_and_nothing_is_logged(
    unit_of_work: ContextFactory, open_register: Register, engine: Engine, folder: Path
) -> None:
    child, mother = family(unit_of_work)
    consent = grant(unit_of_work, child, mother)
    out = folder / "taken.pdf"
    out.write_bytes(b"mine")
    with pytest.raises(InvalidInputError, match="exists"):
        save_evidence(open_register, consent_id=consent, out=out)
    with pytest.raises(InvalidInputError, match="does not exist"):
        save_evidence(open_register, consent_id=consent, out=folder / "no" / "x.pdf")
    assert out.read_bytes() == b"mine"
    assert sorted(p.name for p in folder.iterdir()) == ["taken.pdf"]
    with engine.connect() as conn:
        reads = select(func.count()).where(AuditEvent.action == "evidence.read")
        assert conn.execute(reads).scalar_one() == 0


def test_a_consent_without_evidence_or_an_unknown_one_is_not_found(
    unit_of_work: ContextFactory, open_register: Register, folder: Path
) -> None:
    child, mother = family(unit_of_work)
    with unit_of_work() as ctx:
        bare = builders.grant(ctx, child, mother)
    with pytest.raises(NotFoundError, match=f"consent {bare} has no evidence"):
        save_evidence(open_register, consent_id=bare, out=folder / "x.pdf")
    with pytest.raises(NotFoundError, match="unknown consent"):
        save_evidence(open_register, consent_id="ab" * 16, out=folder / "x.pdf")
    assert list(folder.iterdir()) == []


# --- tampering ----------------------------------------------------------------------------------


@pytest.fixture
def two_blobs(unit_of_work: ContextFactory) -> tuple[str, str, str]:
    """A consent with a scan of three chunks, and another with a one-chunk scan."""
    child, mother = family(unit_of_work)
    long_consent = grant(unit_of_work, child, mother, os.urandom(2 * CHUNK_BYTES + 5))
    grant(unit_of_work, child, mother, b"short scan", purpose="yearbook")
    return child, mother, long_consent


def _long_blob(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT id FROM evidence_blobs WHERE chunks = 3")).scalar())


def _short_blob(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT id FROM evidence_blobs WHERE chunks = 1")).scalar())


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (("DELETE FROM evidence_chunks WHERE blob_id = :long AND idx = 2",), "cut short"),
        (("DELETE FROM evidence_chunks WHERE blob_id = :long AND idx = 1",), "chunk 1 is missing"),
        (
            (
                "UPDATE evidence_chunks SET idx = 9 WHERE blob_id = :long AND idx = 0",
                "UPDATE evidence_chunks SET idx = 0 WHERE blob_id = :long AND idx = 1",
                "UPDATE evidence_chunks SET idx = 1 WHERE blob_id = :long AND idx = 9",
            ),
            "chunk 0 does not decrypt in its place",
        ),
        (
            (
                "INSERT INTO evidence_chunks (blob_id, idx, data)"
                " SELECT :long, 3, data FROM evidence_chunks WHERE blob_id = :short",
            ),
            "chunk 3 does not decrypt in its place",
        ),
        (
            (
                "UPDATE evidence_chunks SET data = (SELECT data FROM evidence_chunks"
                " WHERE blob_id = :short) WHERE blob_id = :long AND idx = 2",
            ),
            "chunk 2 does not decrypt in its place",
        ),
    ],
    ids=["truncated", "chunk-deleted", "reordered", "chunk-added", "chunk-swapped"],
)
def test_a_damaged_blob_is_a_finding_of_audit_verify(
    unit_of_work: ContextFactory,
    engine: Engine,
    two_blobs: tuple[str, str, str],  # noqa: ARG001 - the register it builds
    statements: tuple[str, ...],
    expected: str,
) -> None:
    long, short = _long_blob(engine), _short_blob(engine)
    tamper(engine, *statements, long=long, short=short)
    with unit_of_work(writer=False) as ctx:
        report = verify_log(ctx)
    assert [(f.kind, f.table, f.row) for f in report.findings] == [
        ("evidence_damaged", "evidence_blobs", long)
    ]
    assert expected in report.findings[0].message


def test_an_altered_byte_and_a_deleted_blob_are_findings(
    unit_of_work: ContextFactory,
    open_register: Register,
    engine: Engine,
    two_blobs: tuple[str, str, str],
    folder: Path,
) -> None:
    long, short = _long_blob(engine), _short_blob(engine)
    with engine.connect() as conn:
        data = bytes(
            conn.execute(
                text("SELECT data FROM evidence_chunks WHERE blob_id = :b AND idx = 1"),
                {"b": long},
            ).scalar_one()
        )
    altered = data[:100] + bytes([data[100] ^ 1]) + data[101:]
    tamper(
        engine,
        "UPDATE evidence_chunks SET data = :altered WHERE blob_id = :long AND idx = 1",
        "DELETE FROM evidence_chunks WHERE blob_id = :short",
        "DELETE FROM evidence_blobs WHERE id = :short",
        altered=altered,
        long=long,
        short=short,
    )
    found = findings(unit_of_work)
    assert ("evidence_damaged", "evidence_blobs", long) in found
    assert ("row_missing", "evidence_blobs", short) in found
    assert [f for f in found if f[0] == "evidence_missing"] != []
    with pytest.raises(TamperedDataError, match="chunk 1"):
        save_evidence(open_register, consent_id=two_blobs[2], out=folder / "x.pdf")
    assert list(folder.iterdir()) == []


def test_a_blob_whose_hash_was_swapped_with_another_is_a_finding(
    unit_of_work: ContextFactory, engine: Engine, two_blobs: tuple[str, str, str]
) -> None:
    long, short = _long_blob(engine), _short_blob(engine)
    tamper(
        engine,
        "UPDATE evidence_blobs SET sha256 = :fake WHERE id = :short",
        "UPDATE evidence_blobs SET sha256 = (SELECT sha256 FROM evidence WHERE size = 10)"
        " WHERE id = :long",
        long=long,
        short=short,
    )
    found = findings(unit_of_work)
    assert ("field_changed", "evidence_blobs", long) in found
    assert ("evidence_damaged", "evidence_blobs", long) in found
    assert ("evidence_damaged", "evidence_blobs", short) in found
    assert [f[0] for f in found].count("evidence_missing") == 1  # the long scan's evidence
