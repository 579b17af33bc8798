"""Every scan records the data that decided it: tool and fingerprint versions beside the knowledge-base
version, and the scan a re-identification was made from.

Revision ID: 0012_scan_versions
Revises: 0002_devices_address_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_scan_versions"
down_revision = "0002_devices_address_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scans") as batch:
        batch.add_column(sa.Column("tool_version", sa.String(200), nullable=True))
        batch.add_column(sa.Column("fingerprint_version", sa.String(200), nullable=True))
        batch.add_column(sa.Column("source_scan", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scans") as batch:
        batch.drop_column("source_scan")
        batch.drop_column("fingerprint_version")
        batch.drop_column("tool_version")
