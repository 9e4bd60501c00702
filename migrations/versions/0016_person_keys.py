"""Per-person data keys (GDPR Art 17, `person erase`).

`person_keys` holds each new person's own data key, wrapped by a key derived from the master key;
erasure empties the row. Evidence blobs name the person whose key their chunks are under, and a
content is stored once per person (the unique SHA-256 becomes an index).

People registered before this revision get no key: their data stays under the register's key (a
migration has no key to re-encrypt with, and re-encrypting would not reach the values kept in
append-only tables and older backups), so `person erase` refuses them (docs/architecture.md,
"Erasure").

Downgrading below 0016 drops every person key, and with them everything encrypted under them
(the tests keep and put them back): go back with a backup, never with a downgrade.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite_append_only_again() -> None:
    """SQLite's batch mode copies the table and drops its triggers: made again as in 0008."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS trg_evidence_blobs_no_{verb.lower()}")
        op.execute(
            f"CREATE TRIGGER trg_evidence_blobs_no_{verb.lower()} BEFORE {verb} ON evidence_blobs"
            " BEGIN SELECT RAISE(ABORT, 'evidence_blobs is append-only'); END"
        )


def upgrade() -> None:
    op.create_table(
        "person_keys",
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("erased_at", sa.DateTime(), nullable=True),
        sa.Column("erased_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_keys_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_person_keys")),
    )
    with op.batch_alter_table("evidence_blobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_evidence_blobs_person_id_people"), "people", ["person_id"], ["id"]
        )
        batch_op.drop_constraint(batch_op.f("uq_evidence_blobs_sha256"), type_="unique")
        batch_op.create_index(batch_op.f("ix_evidence_blobs_sha256"), ["sha256"], unique=False)
    _sqlite_append_only_again()


def downgrade() -> None:
    with op.batch_alter_table("evidence_blobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_blobs_sha256"))
        batch_op.create_unique_constraint(batch_op.f("uq_evidence_blobs_sha256"), ["sha256"])
        batch_op.drop_constraint(
            batch_op.f("fk_evidence_blobs_person_id_people"), type_="foreignkey"
        )
        batch_op.drop_column("person_id")
    _sqlite_append_only_again()
    op.drop_table("person_keys")
