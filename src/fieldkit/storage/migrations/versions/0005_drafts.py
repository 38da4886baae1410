"""Drafts of open editors, kept inside the encrypted database (never exported).

This file never imports the models; ``tests/migrations`` checks that it matches them.

Revision ID: 0005_drafts
Revises: 0004_bundles
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fieldkit.storage.migrations.ddl import sealed_text

revision = "0005_drafts"
down_revision = "0004_bundles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("key", sa.String(length=36), nullable=False),
        sa.Column("form_id", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=True),
        sa.Column("base_revision", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("data", sealed_text(), nullable=False),
        sa.Column("context", sealed_text(), nullable=False),
        sa.Column("saved_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_drafts")),
    )


def downgrade() -> None:
    op.drop_table("drafts")
