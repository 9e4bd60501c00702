"""People read for an instant from one index: every column `audit consents` and `report coverage`
read of a person (id, created_at, kind, unit, encrypted birth date), in id order.

Each slice of the as-of read fetched its people through the primary key and then each row from
the table, one random page at a time. From an index holding those columns, the read is one range
of it. Names and references are not in it. The price is one more index to update per person
added (figures in BENCHMARKS.md's run history).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AS_OF = ["id", "created_at", "kind", "unit_id", "born_ct"]


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_as_of"), AS_OF, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_as_of"))
