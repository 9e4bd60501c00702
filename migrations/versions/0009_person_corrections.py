"""Corrections and leaving are events.

`person correct` changes a person's name, birth date, reference or unit in `people` and keeps
the values it replaced in `person_corrections`, one append-only row per correction (numbered per
person), so the as-of views read each value as it was at any instant. `person leave` records the
instant a person left in `people.left_at`. Existing people have no corrections and have not
left: nothing to fill in.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "person_corrections"


def _create_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER trg_{TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END"
            )
        return
    # consentreg_append_only() was created by revision 0001
    op.execute(
        f"CREATE TRIGGER trg_{TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION consentreg_append_only()"
    )
    op.execute(
        f"CREATE TRIGGER trg_{TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION consentreg_append_only()"
    )


def _drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{TABLE}_no_{verb}")
        return
    op.execute(f"DROP TRIGGER IF EXISTS trg_{TABLE}_append_only ON {TABLE}")
    op.execute(f"DROP TRIGGER IF EXISTS trg_{TABLE}_no_truncate ON {TABLE}")


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_people_left_at"), ["left_at"], unique=False)
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fields", sa.String(length=32), nullable=False),
        sa.Column("name_ct", sa.LargeBinary(), nullable=True),
        sa.Column("born_ct", sa.LargeBinary(), nullable=True),
        sa.Column("ref_ct", sa.LargeBinary(), nullable=True),
        sa.Column("unit_id", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_corrections_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_person_corrections_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_corrections")),
        sa.UniqueConstraint("person_id", "version", name=op.f("uq_person_corrections_person_id")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_corrections_at"), ["at"], unique=False)
    _create_append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_corrections_at"))
    op.drop_table(TABLE)
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_left_at"))
        batch_op.drop_column("left_at")
