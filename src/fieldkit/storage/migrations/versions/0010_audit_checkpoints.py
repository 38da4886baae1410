"""Signed audit checkpoints: what a full verification proved, so the next one continues from it.

Only the newest checkpoint is kept (a new one replaces the old): no append-only trigger, since
deleting a checkpoint can only make the next verification a full one.

This file never imports the models; ``tests/migrations`` checks that it matches them.

Revision ID: 0010_audit_checkpoints
Revises: 0009_hub_people
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_audit_checkpoints"
down_revision = "0009_hub_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("made_at", sa.String(length=40), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.Column("audit_hash", sa.String(length=64), nullable=False),
        sa.Column("audit_digest", sa.String(length=64), nullable=False),
        sa.Column("versions_last_id", sa.Integer(), nullable=False),
        sa.Column("versions_count", sa.Integer(), nullable=False),
        sa.Column("versions_digest", sa.String(length=64), nullable=False),
        sa.Column("heads_count", sa.Integer(), nullable=False),
        sa.Column("heads", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
