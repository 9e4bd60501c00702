"""The caption index (R11): who a caption may name, found without decrypting the register.

`person_caption_keys` holds one keyed blind index per spelling of each word of a person's name,
prefixed with the part of the name ("g" given name, "s" surname); `people.caption_index` is the
version of the index built for the person (0: not yet). The keys need the register's key, so
this migration only makes the table: `consentreg db upgrade` and `consentreg init` then build
the index for every person (consentreg.services.caption_index.build_caption_index), with one
`person.index` event each; until then the gate decrypts the people not indexed yet.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_caption_keys",
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("caption_key", sa.String(length=17), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_caption_keys_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", "caption_key", name=op.f("pk_person_caption_keys")),
    )
    with op.batch_alter_table("person_caption_keys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_person_caption_keys_lookup", ["caption_key", "person_id"], unique=False
        )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("caption_index", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_people_caption_index"), ["caption_index"])


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_caption_index"))
        batch_op.drop_column("caption_index")
    with op.batch_alter_table("person_caption_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_person_caption_keys_lookup")
    op.drop_table("person_caption_keys")
