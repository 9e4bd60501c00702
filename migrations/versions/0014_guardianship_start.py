"""Guardianships get a start date.

`guardianships.starts_on` is the first day (Europe/Oslo) of a guardianship that began after the
child's birth (a foster placement, an adoption, a new partner given parental responsibility).
NULL means "from the child's birth": the default, and what every guardianship recorded before
this revision is read as. The birth date itself is encrypted, so it is never copied into this
column in clear; no check is ever asked about an instant before the subject's birth, so NULL is
read at read time as "in force since before any instant asked" without decrypting anything.
A guardianship is in force at an instant T when it started on or before T's day in Oslo and was
not removed at or before T (consentreg.services.guardianships); the instant it was entered in
the register plays no part.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# every column of the as-of read, child by child in the order added (0004), now with the start
BY_CHILD = [
    "child_id",
    "added_at",
    "id",
    "guardian_id",
    "parental_responsibility",
    "removed_at",
]


def upgrade() -> None:
    # the data migration: existing rows keep NULL, "from birth" (see above)
    with op.batch_alter_table("guardianships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("starts_on", sa.Date(), nullable=True))
        batch_op.drop_index(batch_op.f("ix_guardianships_child_added"))
        batch_op.create_index(
            batch_op.f("ix_guardianships_child_added"), [*BY_CHILD, "starts_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("guardianships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guardianships_child_added"))
        batch_op.create_index(batch_op.f("ix_guardianships_child_added"), BY_CHILD, unique=False)
        batch_op.drop_column("starts_on")
