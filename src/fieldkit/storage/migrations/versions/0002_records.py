"""Tables of the records area.

Record heads, every saved version, conflicts, links, the hash-chained audit log (own and foreign),
the FTS5 full-text index, and triggers that make ``audit_log`` and ``record_versions`` append-only.
This file never imports the models; ``tests/migrations`` checks that it matches them.

Revision ID: 0002_records
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from fieldkit.storage.migrations.ddl import (
    drop_append_only,
    is_postgresql,
    make_append_only,
    sealed_text,
)

revision = "0002_records"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

_APPEND_ONLY = ("audit_log", "record_versions")


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("num", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("template_version", sa.String(32), nullable=False),
        sa.Column("origin_device", sa.String(36), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("title", sealed_text(), nullable=False),
        sa.Column("status", sa.String(64), nullable=True),
        sa.Column("facility_id", sa.String(36), nullable=True),
        sa.Column("date_from", sa.String(10), nullable=True),
        sa.Column("date_to", sa.String(10), nullable=True),
        sa.Column("data", sealed_text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("change_seq", sa.Integer(), nullable=False),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_records_revision_positive")),
        sa.PrimaryKeyConstraint("num", name=op.f("pk_records")),
        sa.UniqueConstraint("id", name=op.f("uq_records_id")),
    )
    op.create_index("ix_records_list", "records", ["deleted", "updated_at", "id"])
    op.create_index("ix_records_type_list", "records", ["type", "deleted", "updated_at", "id"])
    op.create_index(
        "ix_records_facility", "records", ["facility_id", "deleted", "updated_at", "id"]
    )
    op.create_index("ix_records_status", "records", ["status", "deleted", "updated_at", "id"])
    op.create_index("ix_records_dates", "records", ["date_from", "date_to"])
    op.create_index("ix_records_change_seq", "records", ["change_seq"])
    op.create_index("ix_records_count", "records", ["deleted", "type"])
    op.create_index(
        "ix_records_search",
        "records",
        [
            "num",
            "type",
            "deleted",
            "confidential",
            "facility_id",
            "status",
            "date_from",
            "date_to",
        ],
    )

    op.create_table(
        "record_versions",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("doc", sa.LargeBinary(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("saved_at", sa.String(40), nullable=False),
        sa.Column("saved_by_device", sa.String(36), nullable=False),
        sa.Column("change_seq", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.CheckConstraint(
            "origin IN ('local', 'imported')", name=op.f("ck_record_versions_origin_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_versions")),
        sa.UniqueConstraint(
            "record_id", "revision", "content_hash", name="uq_record_versions_content"
        ),
        sa.UniqueConstraint("change_seq", name=op.f("uq_record_versions_change_seq")),
    )
    op.create_index("ix_record_versions_record", "record_versions", ["record_id", "revision"])

    op.create_table(
        "record_conflicts",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("local_hash", sa.String(64), nullable=False),
        sa.Column("other_hash", sa.String(64), nullable=False),
        sa.Column("other_device", sa.String(36), nullable=False),
        sa.Column("detected_at", sa.String(40), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_conflicts")),
        sa.UniqueConstraint(
            "record_id", "revision", "other_hash", name="uq_record_conflicts_version"
        ),
    )
    op.create_index(op.f("ix_record_conflicts_record_id"), "record_conflicts", ["record_id"])

    op.create_table(
        "record_links",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("from_id", sa.String(36), nullable=False),
        sa.Column("to_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "source IN ('derived', 'explicit')", name=op.f("ck_record_links_source_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_links")),
        sa.UniqueConstraint(
            "from_id", "to_id", "kind", "role", "owner_id", name="uq_record_links_link"
        ),
    )
    op.create_index("ix_record_links_to", "record_links", ["to_id", "kind"])
    op.create_index("ix_record_links_owner", "record_links", ["owner_id"])

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("details", sealed_text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_target", "audit_log", ["target_id", "revision"])

    op.create_table(
        "audit_foreign",
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("details", sealed_text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("received_at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "seq", name=op.f("pk_audit_foreign")),
    )

    if is_postgresql():
        # A hub's search index: keyed word tokens (GIN) and the sealed texts for snippets.
        op.create_table(
            "record_tokens",
            sa.Column("num", sa.Integer(), nullable=False, autoincrement=False),
            sa.Column("tokens", postgresql.ARRAY(sa.BigInteger()), nullable=False),
            sa.Column("title", sa.LargeBinary(), nullable=False),
            sa.Column("body", sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint("num", name=op.f("pk_record_tokens")),
        )
        op.create_index(
            "ix_record_tokens_tokens", "record_tokens", ["tokens"], postgresql_using="gin"
        )
    else:
        # Full-text index inside the encrypted database; rowid = records.num. Diacritics are
        # removed for Latin script only (Cyrillic й, ї stay distinct); the application folds ё
        # to е itself.
        op.execute(
            "CREATE VIRTUAL TABLE records_fts USING fts5("
            "title, body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
        )

    for table in _APPEND_ONLY:
        make_append_only(table, f"{table} is append-only")


def downgrade() -> None:
    for table in _APPEND_ONLY:
        drop_append_only(table)
    if is_postgresql():
        op.drop_table("record_tokens")
        op.execute("DROP FUNCTION IF EXISTS fieldkit_refuse_change()")
    else:
        op.execute("DROP TABLE IF EXISTS records_fts")
    op.drop_table("audit_foreign")
    op.drop_index("ix_audit_log_target", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_record_links_owner", table_name="record_links")
    op.drop_index("ix_record_links_to", table_name="record_links")
    op.drop_table("record_links")
    op.drop_index(op.f("ix_record_conflicts_record_id"), table_name="record_conflicts")
    op.drop_table("record_conflicts")
    op.drop_index("ix_record_versions_record", table_name="record_versions")
    op.drop_table("record_versions")
    for name in (
        "ix_records_count",
        "ix_records_search",
        "ix_records_change_seq",
        "ix_records_dates",
        "ix_records_status",
        "ix_records_facility",
        "ix_records_type_list",
        "ix_records_list",
    ):
        op.drop_index(name, table_name="records")
    op.drop_table("records")
