"""Web forms already posted, so that a second post of the same form writes nothing.

`form_posts` is not register data: a keyed digest of the login and of a form's one-time token,
when it was posted and where its answer sent the browser. The web application answers a second
post of the same form (a double click, a reload) from it. It is not logged or replayed; rows
older than a day are deleted as new ones arrive.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "form_posts",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("answer", sa.String(length=512), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_form_posts")),
    )
    with op.batch_alter_table("form_posts") as batch:
        batch.create_index(batch.f("ix_form_posts_at"), ["at"])


def downgrade() -> None:
    op.drop_table("form_posts")
