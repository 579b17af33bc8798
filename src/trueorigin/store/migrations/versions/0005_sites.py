"""Sites and sensors: sensor health, audit jobs, schedules, alert targets and alerts.

Revision ID: 0005_sites
Revises: 0004_accounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_sites"
down_revision = "0004_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sensors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(50), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("hosts_done", sa.Integer(), nullable=False),
        sa.Column("hosts_total", sa.Integer(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensors")),
        sa.UniqueConstraint("site", "name", name=op.f("uq_sensors_site_name")),
    )
    op.create_index(op.f("ix_sensors_site"), "sensors", ["site"])
    op.create_table(
        "site_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(50), nullable=False),
        sa.Column("cron", sa.String(100), nullable=False),
        sa.Column("request_json", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_run", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_schedules")),
    )
    op.create_index(op.f("ix_site_schedules_site"), "site_schedules", ["site"])
    op.create_table(
        "audit_jobs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("site", sa.String(50), nullable=False),
        sa.Column("scan_id", sa.String(64), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("request_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sensor", sa.String(200), nullable=True),
        sa.Column("hosts_done", sa.Integer(), nullable=False),
        sa.Column("hosts_expected", sa.Integer(), nullable=True),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], name=op.f("fk_audit_jobs_scan_id_scans")),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["site_schedules.id"], name=op.f("fk_audit_jobs_schedule_id_site_schedules")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_jobs")),
    )
    op.create_index(op.f("ix_audit_jobs_site"), "audit_jobs", ["site"])
    op.create_index(op.f("ix_audit_jobs_status"), "audit_jobs", ["status"])
    op.create_table(
        "alert_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("secret", sa.String(200), nullable=True),
        sa.Column("options_json", sa.Text(), nullable=False),
        sa.Column("site", sa.String(50), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_targets")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("history_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["history_id"], ["finding_history.id"], name=op.f("fk_alerts_history_id_finding_history")
        ),
        sa.ForeignKeyConstraint(["target_id"], ["alert_targets.id"], name=op.f("fk_alerts_target_id_alert_targets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("history_id", "target_id", name=op.f("uq_alerts_history_id_target_id")),
    )
    op.create_table(
        "site_state",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_site_state")),
    )


def downgrade() -> None:
    for table in ("site_state", "alerts", "alert_targets", "audit_jobs", "site_schedules"):
        op.drop_table(table)
    op.drop_index(op.f("ix_sensors_site"), "sensors")
    op.drop_table("sensors")
