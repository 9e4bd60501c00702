"""Consent rounds: guardians answer for themselves through personal links (issue #21).

`rounds` is one round of asking (a unit and its sub-units, a set of purposes, the last day its
links work); `round_links` is one personal link: for one child and one recipient (a guardian
with parental responsibility, or a pupil of 15 and over), stored only as the SHA-256 of its
random token, revocable, and when it was last answered through.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rounds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.Column("purpose_ids", sa.Text(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_rounds_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds")),
    )
    op.create_table(
        "round_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.String(length=32), nullable=False),
        sa.Column("child_id", sa.String(length=32), nullable=False),
        sa.Column("recipient_id", sa.String(length=32), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by", sa.String(length=128), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=128), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_round_links_round_id_rounds")
        ),
        sa.ForeignKeyConstraint(
            ["child_id"], ["people.id"], name=op.f("fk_round_links_child_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["people.id"], name=op.f("fk_round_links_recipient_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_links")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_round_links_token_sha256")),
    )
    with op.batch_alter_table("round_links") as batch:
        batch.create_index(batch.f("ix_round_links_round_id"), ["round_id"])


def downgrade() -> None:
    op.drop_table("round_links")
    op.drop_table("rounds")
