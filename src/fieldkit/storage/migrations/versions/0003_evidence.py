"""Tables of the evidence area.

Evidence items (with the location and wrapped key of their encrypted file), thumbnails, and the
hash-chained custody log with triggers that make it append-only. This file never imports the
models; ``tests/migrations`` checks that it matches them.

Revision ID: 0003_evidence
Revises: 0002_records
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fieldkit.storage.migrations.ddl import drop_append_only, make_append_only, sealed_text

revision = "0003_evidence"
down_revision = "0002_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_items",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("item_type", sa.String(32), nullable=False),
        sa.Column("title", sealed_text(), nullable=True),
        sa.Column("description", sealed_text(), nullable=True),
        sa.Column("creator", sealed_text(), nullable=True),
        sa.Column("collected_by", sealed_text(), nullable=True),
        sa.Column("collected_at", sa.String(40), nullable=True),
        sa.Column("content_created_at", sa.String(40), nullable=True),
        sa.Column("place_created", sealed_text(), nullable=True),
        sa.Column("place_collected", sealed_text(), nullable=True),
        sa.Column("obtained_from", sealed_text(), nullable=True),
        sa.Column("obtained_how", sa.String(32), nullable=True),
        sa.Column("capture_device", sealed_text(), nullable=True),
        sa.Column("original_name", sealed_text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(128), nullable=False),
        sa.Column("sha256", sealed_text(64), nullable=False),
        sa.Column("dedup_tag", sa.String(64), nullable=False),
        sa.Column("copy_role", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.String(36), nullable=True),
        sa.Column("transformation", sealed_text(), nullable=True),
        sa.Column("consent_limits", sealed_text(), nullable=True),
        sa.Column("sensitive_flags", sealed_text(), nullable=False),
        sa.Column("embedded_metadata", sealed_text(), nullable=True),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("verification_status", sa.String(16), nullable=False),
        sa.Column("preview_status", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("origin_device", sa.String(36), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.Column("change_seq", sa.Integer(), nullable=False),
        sa.Column("storage_name", sa.String(32), nullable=False),
        sa.Column("file_id", sa.LargeBinary(), nullable=False),
        sa.Column("wrapped_dek", sa.LargeBinary(), nullable=True),
        sa.Column("sealed_size", sa.BigInteger(), nullable=False),
        sa.Column("purged_at", sa.String(40), nullable=True),
        sa.CheckConstraint(
            "copy_role IN ('original', 'working', 'derived')",
            name=op.f("ck_evidence_items_copy_role_known"),
        ),
        sa.CheckConstraint(
            "state IN ('stored', 'purged')", name=op.f("ck_evidence_items_state_known")
        ),
        sa.CheckConstraint("size >= 0", name=op.f("ck_evidence_items_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["evidence_items.id"],
            name=op.f("fk_evidence_items_parent_id_evidence_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_items")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_evidence_items_storage_name")),
    )
    op.create_index("ix_evidence_items_dedup", "evidence_items", ["dedup_tag"])
    op.create_index("ix_evidence_items_change_seq", "evidence_items", ["change_seq"])
    op.create_index("ix_evidence_items_list", "evidence_items", ["created_at", "id"])

    op.create_table(
        "evidence_previews",
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evidence_items.id"],
            name=op.f("fk_evidence_previews_item_id_evidence_items"),
        ),
        sa.PrimaryKeyConstraint("item_id", "kind", name=op.f("pk_evidence_previews")),
    )

    op.create_table(
        "custody_events",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evidence_items.id"],
            name=op.f("fk_custody_events_item_id_evidence_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_events")),
        sa.UniqueConstraint("event_hash", name=op.f("uq_custody_events_event_hash")),
        sa.UniqueConstraint("item_id", "device_id", "seq", name="uq_custody_events_position"),
    )
    op.create_index("ix_custody_events_item", "custody_events", ["item_id", "at"])
    op.create_index("ix_custody_events_change_seq", "custody_events", ["change_seq"])
    make_append_only("custody_events", "custody events are append-only")


def downgrade() -> None:
    drop_append_only("custody_events")
    op.drop_index("ix_custody_events_change_seq", table_name="custody_events")
    op.drop_index("ix_custody_events_item", table_name="custody_events")
    op.drop_table("custody_events")
    op.drop_table("evidence_previews")
    op.drop_index("ix_evidence_items_list", table_name="evidence_items")
    op.drop_index("ix_evidence_items_change_seq", table_name="evidence_items")
    op.drop_index("ix_evidence_items_dedup", table_name="evidence_items")
    op.drop_table("evidence_items")
