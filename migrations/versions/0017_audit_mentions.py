"""The index of audit events by the people they name.

`audit_mentions` holds one row (person ID, seq) for each person an event names under one of the
keys below: a person's history and the access report read their events through it instead of
searching the whole log's object IDs. Filled here from the log in SQL (the database's own JSON
functions); written with every event from now on; append-only like the log; `audit verify`
rebuilds it from the log and compares (consentreg.services.audit.mentions, whose PERSON_KEYS
this list was copied from at this revision).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "audit_mentions"
PERSON_KEYS = (
    "child",
    "consenter",
    "guardian",
    "people",
    "person",
    "person_key",
    "recipient",
    "subject",
    "subjects",
)


_NAMED = {
    "postgresql": (
        "SELECT j.value #>> '{}' AS object_id, e.seq AS seq"
        " FROM audit_events e, jsonb_each(e.object_ids::jsonb) j"
        " WHERE j.key IN :keys AND jsonb_typeof(j.value) = 'string'"
        " UNION SELECT x #>> '{}', e.seq"
        " FROM audit_events e, jsonb_each(e.object_ids::jsonb) j,"
        " jsonb_array_elements(CASE WHEN jsonb_typeof(j.value) = 'array'"
        " THEN j.value ELSE '[]'::jsonb END) x"
        " WHERE j.key IN :keys AND jsonb_typeof(x) = 'string'"
    ),
    "sqlite": (
        "SELECT j.value AS object_id, e.seq AS seq FROM audit_events e, json_each(e.object_ids) j"
        " WHERE j.key IN :keys AND j.type = 'text'"
        " UNION SELECT a.value, e.seq FROM audit_events e, json_each(e.object_ids) j,"
        " json_each(CASE WHEN j.type = 'array' THEN j.value ELSE '[]' END) a"
        " WHERE j.key IN :keys AND a.type = 'text'"
    ),
}


def _append_only() -> None:
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


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("object_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("object_id", "seq", name=op.f("pk_audit_mentions")),
        sqlite_with_rowid=False,
    )
    named = _NAMED[op.get_bind().dialect.name]
    fill = sa.text("INSERT INTO audit_mentions (object_id, seq) " + named)  # noqa: S608 - constants
    op.execute(fill.bindparams(sa.bindparam("keys", list(PERSON_KEYS), expanding=True)))
    _append_only()


def downgrade() -> None:
    op.drop_table(TABLE)  # its triggers go with it
