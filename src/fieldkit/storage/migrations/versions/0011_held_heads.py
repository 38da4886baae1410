"""Held bundles keep what identifies them: the signed head, the file's size and SHA-256.

A bundle from an unknown signer is no longer copied: its entry keeps the ``SHA256SUMS.minisig``
bytes (``signed_head``), and the file's size and SHA-256, so the same file can be recognised when
it is imported again after its device was enrolled.

This file never imports the models; ``tests/migrations`` checks that it matches them.

Revision ID: 0011_held_heads
Revises: 0010_audit_checkpoints
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_held_heads"
down_revision = "0010_audit_checkpoints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quarantined_bundles") as batch:
        batch.add_column(sa.Column("signed_head", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("file_size", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("file_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quarantined_bundles") as batch:
        batch.drop_column("file_sha256")
        batch.drop_column("file_size")
        batch.drop_column("signed_head")
