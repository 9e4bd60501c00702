"""Staff accounts for the web application: a password per login, and login throttling.

`user_credentials` holds one argon2id hash per login (a login may hold several roles, one
`users` row each, but has one password) and its session epoch: every session cookie carries the
epoch it was issued under, and raising it ("log out everywhere", a new password) ends them all
at once. Its rows are written by logged events (`user.password`, `user.password_reset`,
`user.logout_all`) whose payload carries the hash's SHA-256, never the hash.

`login_failures` is not register data: recent failed logins by keyed digests of the login and
of the client's address, read by every instance of the web application to throttle guessing.
It is not logged or replayed; old rows are deleted as new ones arrive.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_credentials",
        sa.Column("login", sa.String(length=128), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.Column("set_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("login", name=op.f("pk_user_credentials")),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("login_key", sa.String(length=16), nullable=False),
        sa.Column("address_key", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures") as batch:
        batch.create_index(batch.f("ix_login_failures_login_key"), ["login_key", "at"])
        batch.create_index(batch.f("ix_login_failures_address_key"), ["address_key", "at"])


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_table("user_credentials")
