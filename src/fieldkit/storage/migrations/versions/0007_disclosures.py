"""The disclosure ledger: what each output handed to whom (inside the encrypted database).

This file never imports the models; ``tests/migrations`` checks that it matches them.

Revision ID: 0007_disclosures
Revises: 0006_gap_ranges
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_disclosures"
down_revision = "0006_gap_ranges"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("audience", sa.String(length=32), nullable=False),
        sa.Column("made_at", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("disclosed", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosures")),
    )
    op.create_index(
        "ix_disclosures_subject", "disclosures", ["subject_id", "kind", "audience"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_disclosures_subject", table_name="disclosures")
    op.drop_table("disclosures")
