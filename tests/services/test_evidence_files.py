"""Evidence files an older release left in the home folder are moved into the register: checked
against their consent's SHA-256, stored once per content with an event, then removed; leftovers
of consents never committed removed; anything else left in place and named."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from consentreg.config import Settings
from consentreg.domain.model import EventKind
from consentreg.services import consents, register_identity
from consentreg.services.audit.verify import verify_log
from consentreg.services.evidence import CHUNK_BYTES, EvidenceFile, StoredEvidence
from consentreg.services.evidence_copy import save_evidence
from consentreg.services.evidence_files import adopt_evidence_files
from consentreg.services.unit_of_work import Context, Register, new_id
from tests import builders
from tests.conftest import TEST_MASTER_KEY, ContextFactory

Legacy = Callable[..., str]


@pytest.fixture
def settings(open_register: Register, tmp_path: Path) -> Settings:
    """This register's settings with its key in a key file, as `consentreg db upgrade` has."""
    key_file = tmp_path / "master.key"
    key_file.write_bytes(base64.b64encode(TEST_MASTER_KEY) + b"\n")
    key_file.chmod(0o600)
    with open_register.work() as ctx:  # as `consentreg init` gives a register its identity
        register_identity.claim(ctx, ctx.keys)
    return Settings(open_register.settings.home, open_register.settings.db_url, key_file)


@pytest.fixture
def legacy_grant(
    unit_of_work: ContextFactory, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Legacy:
    """`legacy_grant(data, suffix=".bin")` records a grant as releases before revision 0007 did:
    the evidence row in the register, the bytes encrypted whole into the home folder under
    `<evidence id><suffix>` (".bin.tmp": killed between the commit and the rename)."""
    with unit_of_work() as ctx:
        builders.purpose(ctx)
        child, (mother, _) = builders.family(ctx)

    def grant(data: bytes, suffix: str = ".bin") -> str:
        def store(ctx: Context, evidence: EvidenceFile, **_: Any) -> StoredEvidence:
            eid = new_id()
            folder = settings.evidence_dir
            folder.mkdir(parents=True, exist_ok=True)
            token = ctx.keys.encrypt_blob(Path(evidence.path).read_bytes(), blob_id=eid)
            (folder / f"{eid}{suffix}").write_bytes(token)
            name_ct = ctx.keys.encrypt(evidence.name, table="evidence", column="name", row_id=eid)
            row = {"id": eid, "sha256": evidence.sha256, "size": evidence.size}
            row |= {"name_ct": name_ct, "created_at": ctx.now, "created_by": ctx.actor}
            return StoredEvidence(row, None)

        with monkeypatch.context() as patch:
            patch.setattr(consents, "store_evidence", store)
            with builders.scan(data) as scan, unit_of_work() as ctx:
                return consents.record_decision(
                    ctx,
                    subject=child,
                    purpose="facebook",
                    by=mother,
                    kind=EventKind.GRANT,
                    evidence=scan,
                )

    return grant


def finding_kinds(unit_of_work: ContextFactory) -> list[str]:
    with unit_of_work(writer=False) as ctx:
        return [f.kind for f in verify_log(ctx).findings]


def test_files_of_committed_consents_are_moved_in_once_per_content_and_removed(
    legacy_grant: Legacy,
    settings: Settings,
    unit_of_work: ContextFactory,
    open_register: Register,
    engine: Engine,
    tmp_path: Path,
) -> None:
    large = os.urandom(2 * CHUNK_BYTES + 3)
    consent_ids = [
        legacy_grant(large),
        legacy_grant(b"scan killed before its rename", ".bin.tmp"),
        legacy_grant(large),  # the same scan again: a second file, stored once
    ]
    (settings.evidence_dir / f"{new_id()}.bin.tmp").write_bytes(b"a consent never committed")
    assert finding_kinds(unit_of_work) == ["evidence_missing"] * 3

    done = adopt_evidence_files(settings)

    assert (done.adopted, done.removed, done.kept) == (2, 4, [])
    assert not settings.evidence_dir.exists()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM evidence_blobs")).scalar_one() == 2
        adopt = "SELECT count(*) FROM audit_events WHERE action = 'evidence.adopt'"
        assert conn.execute(text(adopt)).scalar_one() == 2
    assert finding_kinds(unit_of_work) == []
    out = tmp_path / "copy.pdf"
    save_evidence(open_register, consent_id=consent_ids[2], out=out)
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(large).digest()
    assert adopt_evidence_files(settings).removed == 0  # again: nothing left to do


def test_a_file_moved_in_whose_removal_was_interrupted_is_removed_next_time(
    legacy_grant: Legacy, settings: Settings, unit_of_work: ContextFactory
) -> None:
    legacy_grant(b"signed form")
    (path,) = settings.evidence_dir.iterdir()
    kept = path.read_bytes()
    assert adopt_evidence_files(settings).adopted == 1
    settings.evidence_dir.mkdir()
    path.write_bytes(kept)  # as if killed after the commit, before the unlink
    done = adopt_evidence_files(settings)
    assert (done.adopted, done.removed) == (0, 1)
    assert finding_kinds(unit_of_work) == []


def test_files_that_cannot_be_moved_in_are_left_in_place_and_named(
    legacy_grant: Legacy, settings: Settings, unit_of_work: ContextFactory
) -> None:
    legacy_grant(b"scan one")
    (damaged,) = settings.evidence_dir.iterdir()
    token = damaged.read_bytes()
    damaged.write_bytes(token[:-1] + bytes([token[-1] ^ 1]))
    legacy_grant(b"scan two")
    (other,) = (p for p in settings.evidence_dir.iterdir() if p != damaged)
    foreign = settings.evidence_dir / f"{new_id()}.bin"
    foreign.write_bytes(b"from another register")

    done = adopt_evidence_files(settings)

    assert done.adopted == 1
    assert not other.exists()
    assert sorted(done.kept) == sorted(
        [
            f"{damaged.name}: does not decrypt with this register's key",
            f"{foreign.name}: no consent in this register has this evidence",
        ]
    )
    assert sorted(settings.evidence_dir.iterdir()) == sorted([damaged, foreign])
    assert finding_kinds(unit_of_work) == ["evidence_missing"]  # the damaged one's scan


def test_nothing_to_move_in_opens_no_register(tmp_path: Path) -> None:
    settings = Settings(tmp_path, "sqlite:///" + str(tmp_path / "none.db"), tmp_path / "none.key")
    done = adopt_evidence_files(settings)
    assert (done.adopted, done.removed, done.kept) == (0, 0, [])
    assert not (tmp_path / "none.db").exists()
