"""The register's tables as typed ORM classes.

Personal data lives only in `*_ct` columns (AES-GCM ciphertext, see consentreg.crypto) and in
`*_bidx` keyed blind indexes; everything else is IDs, codes, dates and hashes. Consent events,
restriction events and audit events are append-only: rows are inserted, never updated.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from consentreg.db.base import Base, UTCDateTime

ID = String(32)
SHA256 = String(64)
BIDX = String(16)


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))


class Purpose(Base):
    __tablename__ = "purposes"
    __table_args__ = (
        CheckConstraint("guardian_policy IN ('all', 'any')", name="guardian_policy"),
        CheckConstraint("max_px > 0", name="max_px_positive"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    max_px: Mapped[int] = mapped_column(Integer)
    guardian_policy: Mapped[str] = mapped_column(String(8))
    valid_until_mmdd: Mapped[str | None] = mapped_column(String(5))
    valid_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))


class NoticeVersion(Base):
    __tablename__ = "notice_versions"
    __table_args__ = (UniqueConstraint("purpose_id", "version"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    purpose_id: Mapped[str] = mapped_column(ForeignKey("purposes.id"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(SHA256)
    requires_new_consent: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (
        CheckConstraint("kind IN ('child', 'adult', 'staff')", name="kind"),
        # every column of the as-of read, by id (migration 0005)
        Index("ix_people_as_of", "id", "created_at", "kind", "unit_id", "born_ct"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"), index=True)
    name_ct: Mapped[bytes] = mapped_column(LargeBinary)
    born_ct: Mapped[bytes] = mapped_column(LargeBinary)
    ref_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    ref_bidx: Mapped[str | None] = mapped_column(BIDX, unique=True)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))
    # the instant the person left (`person leave`, migration 0007); None while they stay
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # the version of the caption index built for the person's name (`person_caption_keys`,
    # consentreg.domain.caption.NAME_KEYS_VERSION); 0: not built yet (a person registered
    # before migration 0013, until `db upgrade` builds it)
    caption_index: Mapped[int] = mapped_column(Integer, index=True, default=0, server_default="0")


class PersonKey(Base):
    """A person's own data key (migration 0016): 32 random bytes wrapped by a key derived from
    the master key (consentreg.crypto). Their name, birth date, reference, corrected values,
    restriction and withdrawal reasons and evidence are encrypted under it. `person erase`
    empties `wrapped_key` and sets `erased_at`: everything under it is unreadable from then on.
    People registered before migration 0016 have no row (their data is under the register's
    key, and cannot be erased this way). A backup leaves `wrapped_key` out: the keys are in the
    key file beside the backups (docs/architecture.md, "Erasure")."""

    __tablename__ = "person_keys"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased_by: Mapped[str | None] = mapped_column(String(128))


class PersonCorrection(Base):
    """One correction of a person's name, birth date, reference or unit (`person correct`,
    migration 0007). The `people` row holds the values now; each correction keeps the values it
    replaced, so the values at any instant are those of the first correction after it, or the
    row's own. `fields` lists what it corrected ("born,name,ref,unit"); a column of a field not
    corrected is NULL. The ciphertexts are the people row's own (bound to people/<column>/<id>).
    Append-only."""

    __tablename__ = "person_corrections"
    __table_args__ = (UniqueConstraint("person_id", "version"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    version: Mapped[int] = mapped_column(Integer)  # 1 for a person's first correction, ...
    fields: Mapped[str] = mapped_column(String(32))
    name_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    born_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    ref_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(128))


class PersonNameToken(Base):
    """One blind-index entry per word of a person's name, for `person list --name`."""

    __tablename__ = "person_name_tokens"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    token_bidx: Mapped[str] = mapped_column(BIDX, primary_key=True, index=True)


class PersonCaptionKey(Base):
    """The caption index (R11, migration 0013): one keyed blind index per spelling of each word
    of a person's name, prefixed with the part of the name it is ("g" given, "s" surname), so
    that the gate finds who a caption may name without decrypting the register."""

    __tablename__ = "person_caption_keys"
    # the gate's lookup reads the person from the index itself (a common first name has
    # thousands of rows in a large register)
    __table_args__ = (Index("ix_person_caption_keys_lookup", "caption_key", "person_id"),)

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    caption_key: Mapped[str] = mapped_column(String(17), primary_key=True)


class RestrictionEvent(Base):
    __tablename__ = "restriction_events"
    __table_args__ = (CheckConstraint("action IN ('restrict', 'unrestrict')", name="action"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    action: Mapped[str] = mapped_column(String(10))
    reason_ct: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(128))


class Guardianship(Base):
    __tablename__ = "guardianships"
    __table_args__ = (
        CheckConstraint("child_id <> guardian_id", name="not_own_guardian"),
        Index("ix_guardianships_child_guardian", "child_id", "guardian_id"),
        # every column of the as-of read, child by child in the order added (migration 0004)
        Index(
            "ix_guardianships_child_added",
            "child_id",
            "added_at",
            "id",
            "guardian_id",
            "parental_responsibility",
            "removed_at",
            "starts_on",  # migration 0014
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    child_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    guardian_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    parental_responsibility: Mapped[bool] = mapped_column(Boolean)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(String(128))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_by: Mapped[str | None] = mapped_column(String(128))
    # the first day (Oslo) of a guardianship that began after the child's birth; None: from
    # birth (the birth date is encrypted and never copied here in clear; migration 0014)
    starts_on: Mapped[date | None] = mapped_column(Date)


class Evidence(Base):
    """An evidence file (scan, PDF, e-mail) as given for one consent: its name (encrypted), the
    SHA-256 and size of its bytes. The bytes are stored once per content, in the blob whose
    `sha256` is the same (EvidenceBlob)."""

    __tablename__ = "evidence"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    sha256: Mapped[str] = mapped_column(SHA256)
    size: Mapped[int] = mapped_column(Integer)
    name_ct: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))


class EvidenceBlob(Base):
    """The bytes of one evidence file, stored once however many consents it proves, as
    `chunks` encrypted chunks (EvidenceChunk); `sha256` and `size` are those of the plaintext.
    Append-only."""

    __tablename__ = "evidence_blobs"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    sha256: Mapped[str] = mapped_column(SHA256, index=True)
    size: Mapped[int] = mapped_column(Integer)
    chunks: Mapped[int] = mapped_column(Integer)
    # whose data key the chunks are under (migration 0016): a content is stored once per
    # person; None: under the register's blob key (evidence stored before 0016)
    person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))


class EvidenceChunk(Base):
    """One encrypted chunk of an evidence blob (1 MiB of plaintext, the last one less); the
    blob's ID, the index and the count are bound to it (consentreg.crypto.ChunkCipher).
    Append-only."""

    __tablename__ = "evidence_chunks"

    blob_id: Mapped[str] = mapped_column(ForeignKey("evidence_blobs.id"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ConsentEvent(Base):
    __tablename__ = "consent_events"
    __table_args__ = (
        CheckConstraint("kind IN ('grant', 'refusal', 'withdrawal')", name="kind"),
        CheckConstraint(
            "method IS NULL OR method IN ('paper', 'email', 'digital', 'in-person')", name="method"
        ),
        CheckConstraint(
            "valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from",
            name="validity_window",
        ),
        Index("ix_consent_events_subject_purpose", "subject_id", "purpose_id"),
        Index("ix_consent_events_purpose_subject", "purpose_id", "subject_id"),  # 0004
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    purpose_id: Mapped[str] = mapped_column(ForeignKey("purposes.id"))
    kind: Mapped[str] = mapped_column(String(10))
    consenter_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    method: Mapped[str | None] = mapped_column(String(10))
    notice_version: Mapped[int] = mapped_column(Integer)
    given_on: Mapped[date] = mapped_column(Date)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    withdraws_id: Mapped[str | None] = mapped_column(ForeignKey("consent_events.id"))
    reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    evidence_id: Mapped[str | None] = mapped_column(ForeignKey("evidence.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(128))


class Photo(Base):
    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    sha256: Mapped[str] = mapped_column(SHA256, unique=True)
    format: Mapped[str] = mapped_column(String(8))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    photographer_ct: Mapped[bytes] = mapped_column(LargeBinary)
    original_name_ct: Mapped[bytes] = mapped_column(LargeBinary)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))
    # the faces found (canonical JSON [[x, y, w, h, score/1000], ...]) and the detector that
    # looked; both NULL: never looked at (the gate refuses `faces_unchecked`)
    faces: Mapped[str | None] = mapped_column(Text)
    face_detector: Mapped[str | None] = mapped_column(String(64))


class PhotoSubject(Base):
    __tablename__ = "photo_subjects"

    photo_id: Mapped[str] = mapped_column(ForeignKey("photos.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True, index=True)
    region: Mapped[str | None] = mapped_column(String(64))
    identifiable: Mapped[bool] = mapped_column(Boolean)
    tagged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    tagged_by: Mapped[str] = mapped_column(String(128))


class Publication(Base):
    """One decision for one photo and purpose: a release (with its output) or a refusal."""

    __tablename__ = "publications"
    __table_args__ = (
        CheckConstraint("decision IN ('released', 'refused')", name="decision"),
        CheckConstraint("delivery IN ('pending', 'delivered', 'failed')", name="delivery"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    photo_id: Mapped[str | None] = mapped_column(ForeignKey("photos.id"), index=True)
    input_sha256: Mapped[str] = mapped_column(SHA256)
    purpose_id: Mapped[str] = mapped_column(ForeignKey("purposes.id"), index=True)
    decision: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(128))
    caption_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    output_name: Mapped[str | None] = mapped_column(String(64))
    output_sha256: Mapped[str | None] = mapped_column(SHA256)
    output_size: Mapped[int | None] = mapped_column(Integer)
    taken_down_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    taken_down_by: Mapped[str | None] = mapped_column(String(128))
    takedown_note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    # a release's file: pending (committed, not yet in the folder), delivered or failed
    delivery: Mapped[str | None] = mapped_column(String(9), index=True)
    output_dir_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    input_path_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


class PublicationConsent(Base):
    __tablename__ = "publication_consents"

    publication_id: Mapped[str] = mapped_column(ForeignKey("publications.id"), primary_key=True)
    consent_event_id: Mapped[str] = mapped_column(
        ForeignKey("consent_events.id"), primary_key=True, index=True
    )


class PublicationSubject(Base):
    __tablename__ = "publication_subjects"

    publication_id: Mapped[str] = mapped_column(ForeignKey("publications.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True, index=True)


class AuditEvent(Base):
    """Hash-chained log of every state change: IDs, codes and digests, never plaintext names."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_ids: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(SHA256)
    hash: Mapped[str] = mapped_column(SHA256, unique=True)


class AuditMention(Base):
    """The audit events by the people they name (consentreg.services.audit.mentions): a
    person's history and access report read their events through it instead of searching the
    whole log. Derived from `audit_events.object_ids`, written with each event, append-only;
    `audit verify` rebuilds it from the log and compares."""

    __tablename__ = "audit_mentions"
    __table_args__ = {"sqlite_with_rowid": False}

    object_id: Mapped[str] = mapped_column(ID, primary_key=True)
    # no foreign key: a derived row must never stop anyone from showing the log was tampered
    # with (`audit verify` reports a row whose event is missing)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class AuditCheckpoint(Base):
    """A signed statement of the audit log's size, RFC 6962 Merkle root and head chain hash
    (a C2SP signed-note checkpoint, kept whole in `note`). Append-only, like the log itself."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = (CheckConstraint("size >= 0", name="size_not_negative"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    size: Mapped[int] = mapped_column(Integer, index=True)
    root: Mapped[str] = mapped_column(SHA256)
    head: Mapped[str] = mapped_column(SHA256)
    key_id: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))


class RegisterIdentity(Base):
    """The register's one identity row: its ID and its master key's fingerprint (never the
    key). Every command checks its key against it before it reads or writes."""

    __tablename__ = "register_identity"
    __table_args__ = (CheckConstraint("slot = 1", name="one_row"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, unique=True)
    key_fingerprint: Mapped[str] = mapped_column(SHA256)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))


class TrustedKey(Base):
    """An Ed25519 public key whose signed checkpoints the register accepts (one per PC that
    signs; added by `init`, `join` or that PC's first checkpoint)."""

    __tablename__ = "trusted_keys"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(SHA256, unique=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(String(128))


class User(Base):
    """A login's role, from when it was added until it was removed (the acting user: the
    database login on PostgreSQL, the OS login on SQLite)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'registrar', 'publisher', 'auditor')", name="role"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    login: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str] = mapped_column(String(10))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(String(128))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_by: Mapped[str | None] = mapped_column(String(128))


class UserUnit(Base):
    """A unit a registrar works for (its sub-units included)."""

    __tablename__ = "user_units"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), primary_key=True)


class UserCredential(Base):
    """A login's password for the web application (argon2id, its parameters and salt in the
    encoded hash) and its session epoch: sessions issued under an older epoch are ended."""

    __tablename__ = "user_credentials"

    login: Mapped[str] = mapped_column(String(128), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    session_epoch: Mapped[int] = mapped_column(Integer)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    set_by: Mapped[str] = mapped_column(String(128))


class LoginFailure(Base):
    """A failed login, by keyed digests of the login and the client's address (never either in
    clear): what throttles guessing across every instance. Not register data: not logged."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_login_key", "login_key", "at"),
        Index("ix_login_failures_address_key", "address_key", "at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    login_key: Mapped[str] = mapped_column(BIDX)
    address_key: Mapped[str] = mapped_column(BIDX)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class FormPost(Base):
    """A web form already posted: a keyed digest of the login and the form's one-time token, and
    where its answer sent the browser. A second post of the same form (a double click) is
    answered from here and writes nothing. Not register data: not logged; old rows are deleted
    as new ones arrive."""

    __tablename__ = "form_posts"
    __table_args__ = (Index("ix_form_posts_at", "at"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(String(512))


class Round(Base):
    """A consent round (issue #21): a unit (its sub-units included) asked about a set of purposes
    (`purpose_ids`, a canonical JSON list); its links work through `ends_on`, until it closes."""

    __tablename__ = "rounds"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    purpose_ids: Mapped[str] = mapped_column(Text)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(128))


class RoundLink(Base):
    """One personal link of a round: for one child and one recipient (a guardian with parental
    responsibility, or the pupil of 15 and over), stored only as its token's SHA-256."""

    __tablename__ = "round_links"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), index=True)
    child_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    recipient_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    token_sha256: Mapped[str] = mapped_column(SHA256, unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by: Mapped[str] = mapped_column(String(128))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(128))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
