"""Tables of the bundles area: organisation keys, enrolment, trust list, import and export state.

This file never imports the models; ``tests/migrations`` checks that it matches them.

Revision ID: 0004_bundles
Revises: 0003_evidence
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fieldkit.storage.migrations.ddl import sealed_text

revision = "0004_bundles"
down_revision = "0003_evidence"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "org_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("name", sealed_text(200), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("signing_seed", sa.LargeBinary(), nullable=False),
        sa.Column("signing_public", sa.LargeBinary(), nullable=False),
        sa.Column("age_secret", sa.LargeBinary(), nullable=False),
        sa.Column("age_recipient", sa.String(length=100), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_org_keys_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_keys")),
    )
    op.create_table(
        "enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("org_name", sa.String(length=200), nullable=False),
        sa.Column("signing_public", sa.LargeBinary(), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("card", sa.LargeBinary(), nullable=False),
        sa.Column("enrolled_at", sa.String(length=40), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_enrolment_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment")),
    )
    op.create_table(
        "trusted_devices",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("label", sealed_text(200), nullable=False),
        sa.Column("enrolled_at", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("revoked_at", sa.String(length=40), nullable=True),
        sa.Column("last_good_seq", sa.Integer(), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_trusted_devices")),
        sa.UniqueConstraint("key_id", name=op.f("uq_trusted_devices_key_id")),
    )
    op.create_table(
        "imported_bundles",
        sa.Column("bundle_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("bundle_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("change_from", sa.Integer(), nullable=False),
        sa.Column("change_through", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("chain", sa.String(length=20), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("objects", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["trusted_devices.device_id"],
            name=op.f("fk_imported_bundles_device_id_trusted_devices"),
        ),
        sa.PrimaryKeyConstraint("bundle_id", name=op.f("pk_imported_bundles")),
        sa.UniqueConstraint("device_id", "seq", name="uq_imported_bundles_device_seq"),
    )
    op.create_table(
        "sequence_gaps",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("detected_at", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "seq", name=op.f("pk_sequence_gaps")),
    )
    op.create_table(
        "bundle_alarms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("bundle_id", sa.String(length=36), nullable=False),
        sa.Column("bundle_hash", sa.String(length=64), nullable=False),
        sa.Column("known_hash", sa.String(length=64), nullable=False),
        sa.Column("raised_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bundle_alarms")),
    )
    op.create_table(
        "quarantined_bundles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("bundle_id", sa.String(length=36), nullable=True),
        sa.Column("file_name", sealed_text(300), nullable=False),
        sa.Column("held_file", sa.String(length=100), nullable=True),
        sa.Column("received_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_bundles")),
    )
    op.create_table(
        "import_conflicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bundle_id", sa.String(length=36), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("detected_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_conflicts")),
    )
    op.create_table(
        "exported_bundles",
        sa.Column("bundle_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("bundle_hash", sa.String(length=64), nullable=False),
        sa.Column("change_from", sa.Integer(), nullable=False),
        sa.Column("change_through", sa.Integer(), nullable=False),
        sa.Column("audit_through", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("file_name", sa.String(length=100), nullable=False),
        sa.Column("acknowledged", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("bundle_id", name=op.f("pk_exported_bundles")),
        sa.UniqueConstraint("seq", name=op.f("uq_exported_bundles_seq")),
    )
    op.create_table(
        "export_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_through", sa.Integer(), nullable=False),
        sa.Column("audit_acknowledged_through", sa.Integer(), nullable=False),
        sa.Column("last_receipt_id", sa.String(length=36), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_export_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_state")),
    )
    op.execute(
        "INSERT INTO export_state (id, last_seq, last_hash, acknowledged_through, "
        "audit_acknowledged_through) VALUES (1, 0, NULL, 0, 0)"
    )


def downgrade() -> None:
    for table in (
        "export_state",
        "exported_bundles",
        "import_conflicts",
        "quarantined_bundles",
        "bundle_alarms",
        "sequence_gaps",
        "imported_bundles",
        "trusted_devices",
        "enrolment",
        "org_keys",
    ):
        op.drop_table(table)
