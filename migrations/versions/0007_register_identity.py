"""The register knows who it is, and who may do what: its ID, its key's fingerprint, the signing
keys it trusts, its users and their roles.

`register_identity` holds one row (`slot` is 1 and unique): the register's random ID and the
fingerprint of its master key (an HKDF derivation, never the key). Every command compares its key
with it before it reads or writes. `trusted_keys` lists the Ed25519 public keys whose signed
checkpoints this register accepts: one per PC that signs. Both are append-only, like the log.
`users` holds each login's role (admin, registrar, publisher, auditor) from when it was added
until it was removed; `user_units` the units a registrar works for (their sub-units included).
Registers from before this revision get their identity, and their first admin, from
`consentreg init` on a PC holding their key.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("register_identity", "trusted_keys")


def _create_append_only_triggers(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER trg_{table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
        return
    # consentreg_append_only() was created by revision 0001
    op.execute(
        f"CREATE TRIGGER trg_{table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION consentreg_append_only()"
    )
    op.execute(
        f"CREATE TRIGGER trg_{table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION consentreg_append_only()"
    )


def _drop_append_only_triggers(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_{verb}")
        return
    op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_append_only ON {table}")
    op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_no_truncate ON {table}")


def upgrade() -> None:
    op.create_table(
        "register_identity",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.CheckConstraint("slot = 1", name=op.f("ck_register_identity_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_identity")),
        sa.UniqueConstraint("slot", name=op.f("uq_register_identity_slot")),
    )
    op.create_table(
        "trusted_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_keys")),
        sa.UniqueConstraint("public_key", name=op.f("uq_trusted_keys_public_key")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("login", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_by", sa.String(length=128), nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'registrar', 'publisher', 'auditor')", name=op.f("ck_users_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_login"), ["login"], unique=False)
    op.create_table(
        "user_units",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_units_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_user_units_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("user_id", "unit_id", name=op.f("pk_user_units")),
    )
    for table in TABLES:
        _create_append_only_triggers(table)


def downgrade() -> None:
    for table in TABLES:
        _drop_append_only_triggers(table)
    op.drop_table("user_units")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_login"))
    op.drop_table("users")
    op.drop_table("trusted_keys")
    op.drop_table("register_identity")
