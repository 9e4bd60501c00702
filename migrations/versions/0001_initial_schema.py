"""Initial schema: register, photos, publications and the audit chain.

Event tables (consent_events, restriction_events, audit_events) get append-only triggers: an
UPDATE or DELETE through the tool's own roles fails. An owner or superuser can still drop them;
that is what `audit verify` and signed checkpoints are for.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY = ("audit_events", "consent_events", "restriction_events")


def _create_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER trg_{table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        return
    op.execute(
        "CREATE FUNCTION consentreg_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER trg_{table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION consentreg_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER trg_{table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION consentreg_append_only()"
        )


def _drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_{verb}")
        return
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_truncate ON {table}")
    op.execute("DROP FUNCTION IF EXISTS consentreg_append_only()")


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_ids", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)

    op.create_table(
        "evidence",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("name_ct", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
    )
    op.create_table(
        "purposes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("max_px", sa.Integer(), nullable=False),
        sa.Column("guardian_policy", sa.String(length=8), nullable=False),
        sa.Column("valid_until_mmdd", sa.String(length=5), nullable=True),
        sa.Column("valid_days", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.CheckConstraint(
            "guardian_policy IN ('all', 'any')", name=op.f("ck_purposes_guardian_policy")
        ),
        sa.CheckConstraint("max_px > 0", name=op.f("ck_purposes_max_px_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purposes")),
        sa.UniqueConstraint("code", name=op.f("uq_purposes_code")),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["units.id"], name=op.f("fk_units_parent_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("code", name=op.f("uq_units_code")),
    )
    op.create_table(
        "notice_versions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("purpose_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("requires_new_consent", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["purpose_id"], ["purposes.id"], name=op.f("fk_notice_versions_purpose_id_purposes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_versions")),
        sa.UniqueConstraint("purpose_id", "version", name=op.f("uq_notice_versions_purpose_id")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=True),
        sa.Column("name_ct", sa.LargeBinary(), nullable=False),
        sa.Column("born_ct", sa.LargeBinary(), nullable=False),
        sa.Column("ref_ct", sa.LargeBinary(), nullable=True),
        sa.Column("ref_bidx", sa.String(length=16), nullable=True),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.CheckConstraint("kind IN ('child', 'adult', 'staff')", name=op.f("ck_people_kind")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_people_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("ref_bidx", name=op.f("uq_people_ref_bidx")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "photos",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=True),
        sa.Column("photographer_ct", sa.LargeBinary(), nullable=False),
        sa.Column("original_name_ct", sa.LargeBinary(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_photos_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photos")),
        sa.UniqueConstraint("sha256", name=op.f("uq_photos_sha256")),
    )
    op.create_table(
        "consent_events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("purpose_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("consenter_id", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=True),
        sa.Column("notice_version", sa.Integer(), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("effective_at", sa.DateTime(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("withdraws_id", sa.String(length=32), nullable=True),
        sa.Column("reason_ct", sa.LargeBinary(), nullable=True),
        sa.Column("evidence_id", sa.String(length=32), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.CheckConstraint(
            "kind IN ('grant', 'refusal', 'withdrawal')", name=op.f("ck_consent_events_kind")
        ),
        sa.CheckConstraint(
            "method IS NULL OR method IN ('paper', 'email', 'digital', 'in-person')",
            name=op.f("ck_consent_events_method"),
        ),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from",
            name=op.f("ck_consent_events_validity_window"),
        ),
        sa.ForeignKeyConstraint(
            ["consenter_id"], ["people.id"], name=op.f("fk_consent_events_consenter_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"], ["evidence.id"], name=op.f("fk_consent_events_evidence_id_evidence")
        ),
        sa.ForeignKeyConstraint(
            ["purpose_id"], ["purposes.id"], name=op.f("fk_consent_events_purpose_id_purposes")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["people.id"], name=op.f("fk_consent_events_subject_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["withdraws_id"],
            ["consent_events.id"],
            name=op.f("fk_consent_events_withdraws_id_consent_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_consent_events_seq")),
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_events_consenter_id"), ["consenter_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consent_events_purpose_id"), ["purpose_id"], unique=False
        )
        batch_op.create_index(
            "ix_consent_events_subject_purpose", ["subject_id", "purpose_id"], unique=False
        )

    op.create_table(
        "guardianships",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("child_id", sa.String(length=32), nullable=False),
        sa.Column("guardian_id", sa.String(length=32), nullable=False),
        sa.Column("parental_responsibility", sa.Boolean(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_by", sa.String(length=128), nullable=True),
        sa.CheckConstraint(
            "child_id <> guardian_id", name=op.f("ck_guardianships_not_own_guardian")
        ),
        sa.ForeignKeyConstraint(
            ["child_id"], ["people.id"], name=op.f("fk_guardianships_child_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["guardian_id"], ["people.id"], name=op.f("fk_guardianships_guardian_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardianships")),
    )
    with op.batch_alter_table("guardianships", schema=None) as batch_op:
        batch_op.create_index(
            "ix_guardianships_child_guardian", ["child_id", "guardian_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_guardianships_guardian_id"), ["guardian_id"], unique=False
        )

    op.create_table(
        "person_name_tokens",
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("token_bidx", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_name_tokens_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", "token_bidx", name=op.f("pk_person_name_tokens")),
    )
    with op.batch_alter_table("person_name_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_name_tokens_token_bidx"), ["token_bidx"], unique=False
        )

    op.create_table(
        "photo_subjects",
        sa.Column("photo_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("identifiable", sa.Boolean(), nullable=False),
        sa.Column("tagged_at", sa.DateTime(), nullable=False),
        sa.Column("tagged_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_photo_subjects_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name=op.f("fk_photo_subjects_photo_id_photos")
        ),
        sa.PrimaryKeyConstraint("photo_id", "person_id", name=op.f("pk_photo_subjects")),
    )
    with op.batch_alter_table("photo_subjects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_photo_subjects_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "publications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("photo_id", sa.String(length=32), nullable=True),
        sa.Column("input_sha256", sa.String(length=64), nullable=False),
        sa.Column("purpose_id", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("caption_ct", sa.LargeBinary(), nullable=True),
        sa.Column("output_name", sa.String(length=64), nullable=True),
        sa.Column("output_sha256", sa.String(length=64), nullable=True),
        sa.Column("output_size", sa.Integer(), nullable=True),
        sa.Column("taken_down_at", sa.DateTime(), nullable=True),
        sa.Column("taken_down_by", sa.String(length=128), nullable=True),
        sa.Column("takedown_note_ct", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(
            "decision IN ('released', 'refused')", name=op.f("ck_publications_decision")
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name=op.f("fk_publications_photo_id_photos")
        ),
        sa.ForeignKeyConstraint(
            ["purpose_id"], ["purposes.id"], name=op.f("fk_publications_purpose_id_purposes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publications")),
    )
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_publications_photo_id"), ["photo_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_publications_purpose_id"), ["purpose_id"], unique=False
        )

    op.create_table(
        "restriction_events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("reason_ct", sa.LargeBinary(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.CheckConstraint(
            "action IN ('restrict', 'unrestrict')", name=op.f("ck_restriction_events_action")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_restriction_events_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restriction_events")),
    )
    with op.batch_alter_table("restriction_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_restriction_events_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "publication_consents",
        sa.Column("publication_id", sa.String(length=32), nullable=False),
        sa.Column("consent_event_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_event_id"],
            ["consent_events.id"],
            name=op.f("fk_publication_consents_consent_event_id_consent_events"),
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publications.id"],
            name=op.f("fk_publication_consents_publication_id_publications"),
        ),
        sa.PrimaryKeyConstraint(
            "publication_id", "consent_event_id", name=op.f("pk_publication_consents")
        ),
    )
    with op.batch_alter_table("publication_consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_publication_consents_consent_event_id"),
            ["consent_event_id"],
            unique=False,
        )

    op.create_table(
        "publication_subjects",
        sa.Column("publication_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_publication_subjects_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publications.id"],
            name=op.f("fk_publication_subjects_publication_id_publications"),
        ),
        sa.PrimaryKeyConstraint(
            "publication_id", "person_id", name=op.f("pk_publication_subjects")
        ),
    )
    with op.batch_alter_table("publication_subjects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_publication_subjects_person_id"), ["person_id"], unique=False
        )
    _create_append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    with op.batch_alter_table("publication_subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publication_subjects_person_id"))

    op.drop_table("publication_subjects")
    with op.batch_alter_table("publication_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publication_consents_consent_event_id"))

    op.drop_table("publication_consents")
    with op.batch_alter_table("restriction_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_restriction_events_person_id"))

    op.drop_table("restriction_events")
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publications_purpose_id"))
        batch_op.drop_index(batch_op.f("ix_publications_photo_id"))

    op.drop_table("publications")
    with op.batch_alter_table("photo_subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_photo_subjects_person_id"))

    op.drop_table("photo_subjects")
    with op.batch_alter_table("person_name_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_name_tokens_token_bidx"))

    op.drop_table("person_name_tokens")
    with op.batch_alter_table("guardianships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guardianships_guardian_id"))
        batch_op.drop_index("ix_guardianships_child_guardian")

    op.drop_table("guardianships")
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_events_subject_purpose")
        batch_op.drop_index(batch_op.f("ix_consent_events_purpose_id"))
        batch_op.drop_index(batch_op.f("ix_consent_events_consenter_id"))

    op.drop_table("consent_events")
    op.drop_table("photos")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_unit_id"))

    op.drop_table("people")
    op.drop_table("notice_versions")
    op.drop_table("units")
    op.drop_table("purposes")
    op.drop_table("evidence")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
