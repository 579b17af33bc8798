"""Compliance data: contract and supplier data for FAR 52.204-25(d) reports, and the dates of its deadlines.

Revision ID: 0003_compliance_data
Revises: 0002_store_integrity
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_compliance_data"
down_revision = "0002_store_integrity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contract_data",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("contract_number", sa.String(100), nullable=True),
        sa.Column("order_numbers", sa.String(400), nullable=True),
        sa.Column("supplier_name", sa.String(400), nullable=True),
        sa.Column("supplier_uei", sa.String(12), nullable=True),
        sa.Column("supplier_cage", sa.String(5), nullable=True),
        sa.Column("item_description", sa.Text(), nullable=True),
        sa.Column("mitigation", sa.Text(), nullable=True),
        sa.Column("further_mitigation", sa.Text(), nullable=True),
        sa.Column("prevention", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_contract_data_site_id_sites"),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"], name="fk_contract_data_finding_id_findings"),
        sa.PrimaryKeyConstraint("id", name="pk_contract_data"),
        sa.UniqueConstraint("site_id", name="uq_contract_data_site_id"),
        sa.UniqueConstraint("finding_id", name="uq_contract_data_finding_id"),
    )
    op.create_table(
        "far_reports",
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("identified_on", sa.Date(), nullable=True),
        sa.Column("initial_sent_on", sa.Date(), nullable=True),
        sa.Column("further_sent_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"], name="fk_far_reports_finding_id_findings"),
        sa.PrimaryKeyConstraint("finding_id", name="pk_far_reports"),
    )


def downgrade() -> None:
    op.drop_table("far_reports")
    op.drop_table("contract_data")
