"""Tables of case packages for lawyers: enrolled lawyers, packages sent and received, and the
lawyer's copy of what the packages delivered.

This file never imports the models; ``tests/migrations`` checks that it matches them.

Revision ID: 0008_counsel
Revises: 0007_disclosures
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fieldkit.storage.migrations.ddl import sealed_text

revision = "0008_counsel"
down_revision = "0007_disclosures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trusted_counsel",
        sa.Column("counsel_id", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signing_public", sa.LargeBinary(), nullable=False),
        sa.Column("recipient", sa.String(length=100), nullable=False),
        sa.Column("label", sealed_text(200), nullable=False),
        sa.Column("enrolled_at", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("revoked_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("counsel_id", name=op.f("pk_trusted_counsel")),
        sa.UniqueConstraint("key_id", name=op.f("uq_trusted_counsel_key_id")),
    )
    op.create_table(
        "sent_packages",
        sa.Column("package_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("counsel_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("package_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.Integer(), nullable=False),
        sa.Column("withheld", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counsel_id"],
            ["trusted_counsel.counsel_id"],
            name=op.f("fk_sent_packages_counsel_id_trusted_counsel"),
        ),
        sa.PrimaryKeyConstraint("package_id", name=op.f("pk_sent_packages")),
        sa.UniqueConstraint("case_id", "counsel_id", "seq", name="uq_sent_packages_case_seq"),
    )
    op.create_table(
        "received_packages",
        sa.Column("package_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("package_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("imported_at", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("manifest", sa.LargeBinary(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("package_id", name=op.f("pk_received_packages")),
        sa.UniqueConstraint("case_id", "seq", name="uq_received_packages_case_seq"),
    )
    op.create_table(
        "counsel_items",
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("record_type", sa.String(length=32), nullable=True),
        sa.Column("doc", sa.LargeBinary(), nullable=False),
        sa.Column("doc_sha256", sa.String(length=64), nullable=False),
        sa.Column("object_sha256", sa.String(length=64), nullable=True),
        sa.Column("object_size", sa.BigInteger(), nullable=True),
        sa.Column("custody", sa.Text(), nullable=True),
        sa.Column("storage_name", sa.String(length=32), nullable=True),
        sa.Column("file_id", sa.LargeBinary(), nullable=True),
        sa.Column("wrapped_dek", sa.LargeBinary(), nullable=True),
        sa.Column("package_id", sa.String(length=36), nullable=False),
        sa.Column("received_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_counsel_items")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_counsel_items_storage_name")),
    )


def downgrade() -> None:
    for table in ("counsel_items", "received_packages", "sent_packages", "trusted_counsel"):
        op.drop_table(table)
