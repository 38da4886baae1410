"""Tables of a hub's people: key slots (``hub_people``) and cases shared with lawyers
(``hub_shares``). Created on SQLite too, where they stay empty.

This file never imports the models; ``tests/migrations`` checks that it matches them.

Revision ID: 0009_hub_people
Revises: 0008_counsel
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_hub_people"
down_revision = "0008_counsel"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_people",
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("db_role", sa.String(length=63), nullable=False),
        sa.Column("slot", sa.LargeBinary(), nullable=True),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("device_public_key", sa.LargeBinary(), nullable=False),
        sa.Column("device_seed", sa.LargeBinary(), nullable=True),
        sa.Column("granted_at", sa.String(length=40), nullable=False),
        sa.Column("granted_by", sa.String(length=63), nullable=False),
        sa.Column("joined_at", sa.String(length=40), nullable=True),
        sa.Column("revoked_at", sa.String(length=40), nullable=True),
        sa.CheckConstraint(
            "role IN ('coordinator', 'lawyer')", name=op.f("ck_hub_people_role_known")
        ),
        sa.PrimaryKeyConstraint("label", name=op.f("pk_hub_people")),
        sa.UniqueConstraint("db_role", name=op.f("uq_hub_people_db_role")),
    )
    op.create_table(
        "hub_shares",
        sa.Column("db_role", sa.String(length=63), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("shared_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("db_role", "case_id", "item_id", name=op.f("pk_hub_shares")),
    )
    op.create_index("ix_hub_shares_item", "hub_shares", ["db_role", "item_id"])


def downgrade() -> None:
    op.drop_index("ix_hub_shares_item", table_name="hub_shares")
    op.drop_table("hub_shares")
    op.drop_table("hub_people")
