"""Photos carry the faces found in them (R17).

`faces` holds the boxes the detector found, as canonical JSON `[[x, y, w, h, score], ...]` in
the upright image's pixels (score in thousandths); `face_detector` names the model that looked.
Boxes only: no landmarks, no templates, nothing that recognises anyone. Photos registered before
this revision were never looked at: both stay NULL, and the gate refuses them
(`faces_unchecked`) until `consentreg photo detect FILE` has looked.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("faces", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("face_detector", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("face_detector")
        batch_op.drop_column("faces")
