"""As-of reads from index ranges: guardianships child by child, consent events by purpose and
subject.

`audit consents` reads a municipality in slices of the people by id, in parallel. Migration 0003
indexed guardianships by the time they were added, so every slice scanned all 200,000 of them
(and PostgreSQL sorted them instead); keyed by child first, with every column the read needs,
each slice reads only its own children, already in the order the gate lists guardians. Likewise
consent events were indexed by purpose alone: a slice fetched every event of the purpose to keep
the half whose subject is in it; (purpose, subject) lets it fetch only those (figures in
BENCHMARKS.md's run history).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BY_TIME = ["added_at", "id", "child_id", "guardian_id", "parental_responsibility", "removed_at"]
BY_CHILD = ["child_id", "added_at", "id", "guardian_id", "parental_responsibility", "removed_at"]


def upgrade() -> None:
    with op.batch_alter_table("guardianships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guardianships_added_at"))
        batch_op.create_index(batch_op.f("ix_guardianships_child_added"), BY_CHILD, unique=False)
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_events_purpose_id"))
        batch_op.create_index(
            batch_op.f("ix_consent_events_purpose_subject"),
            ["purpose_id", "subject_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_events_purpose_subject"))
        batch_op.create_index(batch_op.f("ix_consent_events_purpose_id"), ["purpose_id"])
    with op.batch_alter_table("guardianships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guardianships_child_added"))
        batch_op.create_index(batch_op.f("ix_guardianships_added_at"), BY_TIME, unique=False)
