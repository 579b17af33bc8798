"""Index devices.address: matching a host to its device looked up the address by a full table scan, which made
every import and passive audit quadratic in the number of hosts (bench/import_scaling.py).

Revision ID: 0002_devices_address_index
Revises: 0012_scan_versions
"""

from __future__ import annotations

from alembic import op

revision = "0002_devices_address_index"
down_revision = "0012_scan_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_devices_address", "devices", ["address"])


def downgrade() -> None:
    op.drop_index("ix_devices_address", table_name="devices")
