"""Releases know whether their file arrived.

A release is committed before its file is written into the output folder (nothing undecided
ever lands there). `delivery` says what happened next: `pending` from the commit until the file
has its final name, then `delivered`, or `failed` when it could not be written and the original
is gone. The output folder and the input's path are kept encrypted so that a later run can
finish a delivery a crash interrupted. Releases recorded before this revision had their file
written before the commit: they are `delivered`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery", sa.String(length=9), nullable=True))
        batch_op.add_column(sa.Column("output_dir_ct", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("input_path_ct", sa.LargeBinary(), nullable=True))
        batch_op.create_index(batch_op.f("ix_publications_delivery"), ["delivery"], unique=False)
        batch_op.create_check_constraint(
            op.f("ck_publications_delivery"), "delivery IN ('pending', 'delivered', 'failed')"
        )
    op.execute("UPDATE publications SET delivery = 'delivered' WHERE decision = 'released'")


def downgrade() -> None:
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_publications_delivery"), type_="check")
        batch_op.drop_index(batch_op.f("ix_publications_delivery"))
        batch_op.drop_column("input_path_ct")
        batch_op.drop_column("output_dir_ct")
        batch_op.drop_column("delivery")
