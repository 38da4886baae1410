"""Tables of the bundles area.

Revision ID: 0004_bundles
Revises: 0003_evidence
"""

from __future__ import annotations

revision = "0004_bundles"
down_revision = "0003_evidence"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
