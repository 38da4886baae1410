"""Sequence gaps as ranges: ``sequence_gaps.through`` (the last missing number of the range).

Rows of the per-number layout become one-number ranges; filled rows go (a filled number is an
imported bundle). Downgrade keeps each range's first number only.

This file never imports the models; ``tests/migrations`` checks that it matches them.

Revision ID: 0006_gap_ranges
Revises: 0005_drafts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_gap_ranges"
down_revision = "0005_drafts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sequence_gaps") as batch:
        batch.add_column(sa.Column("through", sa.Integer(), nullable=True))
    op.execute("DELETE FROM sequence_gaps WHERE status <> 'pending'")
    op.execute("UPDATE sequence_gaps SET through = seq")
    with op.batch_alter_table("sequence_gaps") as batch:
        batch.alter_column("through", existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("sequence_gaps") as batch:
        batch.drop_column("through")
