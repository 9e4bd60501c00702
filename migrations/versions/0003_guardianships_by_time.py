"""Guardianships in the order they were added, read from an index.

`audit consents` and `report coverage` read every guardianship in force at an instant in the
order they were added (`added_at`, then `id`: the order the gate lists guardians' reasons in).
Without an index SQLite sorts the whole table for each read, a third of a second for a
municipality's 200,000 guardianships; this index holds every column that read needs, so the rows
come out of it already in order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["added_at", "id", "child_id", "guardian_id", "parental_responsibility", "removed_at"]


def upgrade() -> None:
    with op.batch_alter_table("guardianships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guardianships_added_at"), COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("guardianships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guardianships_added_at"))
