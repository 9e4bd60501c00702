"""Evidence lives in the database.

Before this revision an evidence file's encrypted bytes were kept as a file in each PC's
`$CONSENTREG_HOME/evidence`, moved there after the commit. From now on they are stored in the
same transaction as the consent they prove: once per content (`evidence_blobs`, found by the
plaintext's SHA-256 that `evidence.sha256` already holds), as encrypted chunks of 1 MiB
(`evidence_chunks`). Both tables are append-only like the other event tables.

The files an older release left behind cannot be moved in here (a migration has neither the
home folder nor the key): `consentreg init` and `consentreg db upgrade` do that after upgrading
(consentreg.services.evidence_files.adopt_evidence_files).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("evidence_blobs", "evidence_chunks")


def _create_append_only_triggers() -> None:
    for table in APPEND_ONLY:
        if op.get_bind().dialect.name == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER trg_{table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
            continue
        # consentreg_append_only() was created by revision 0001
        op.execute(
            f"CREATE TRIGGER trg_{table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION consentreg_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER trg_{table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION consentreg_append_only()"
        )


def _drop_append_only_triggers() -> None:
    for table in APPEND_ONLY:
        if op.get_bind().dialect.name == "sqlite":
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_{verb}")
            continue
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_truncate ON {table}")


def upgrade() -> None:
    op.create_table(
        "evidence_blobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_blobs")),
        sa.UniqueConstraint("sha256", name=op.f("uq_evidence_blobs_sha256")),
    )
    op.create_table(
        "evidence_chunks",
        sa.Column("blob_id", sa.String(length=32), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["blob_id"],
            ["evidence_blobs.id"],
            name=op.f("fk_evidence_chunks_blob_id_evidence_blobs"),
        ),
        sa.PrimaryKeyConstraint("blob_id", "idx", name=op.f("pk_evidence_chunks")),
    )
    _create_append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    op.drop_table("evidence_chunks")
    op.drop_table("evidence_blobs")
