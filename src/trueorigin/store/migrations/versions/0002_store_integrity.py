"""Store integrity: merge devices duplicated by concurrent writers, then let the schema refuse new duplicates.

Before this revision, concurrent imports or scans of the same hosts could each create the device (and its
finding). Duplicates are rows with the same site, address, MAC and serial that never appear together in one scan
(two hosts sharing a router's MAC in one scan are two devices on purpose, and stay so). Each group is merged into
its oldest device: identifications and tags move to it, the findings become one (the most recently changed one's
status wins; the others' history moves to it, with a history entry saying so).

Then: unique indexes on (site, address) for devices without MAC or serial, the identity that nothing else
distinguishes. Findings were already unique per device. (The index on devices.address that device matching
needs is revision 0002_devices_address_index.)

Revision ID: 0002_store_integrity
Revises: 0012_scan_versions (written against 0001_initial; re-chained after main gained 0012)
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002_store_integrity"
down_revision = "0002_devices_address_index"
branch_labels = None
depends_on = None

KEYLESS = "mac IS NULL AND serial IS NULL"
NO_SITE_WHERE = f"site_id IS NULL AND {KEYLESS}"
SITE_WHERE = f"site_id IS NOT NULL AND {KEYLESS}"


def upgrade() -> None:
    _merge_duplicate_devices(op.get_bind())
    op.create_index(
        "uq_devices_address_keyless_no_site",
        "devices",
        ["address"],
        unique=True,
        sqlite_where=sa.text(NO_SITE_WHERE),
        postgresql_where=sa.text(NO_SITE_WHERE),
    )
    op.create_index(
        "uq_devices_site_id_address_keyless",
        "devices",
        ["site_id", "address"],
        unique=True,
        sqlite_where=sa.text(SITE_WHERE),
        postgresql_where=sa.text(SITE_WHERE),
    )


def downgrade() -> None:
    op.drop_index("uq_devices_site_id_address_keyless", table_name="devices")
    op.drop_index("uq_devices_address_keyless_no_site", table_name="devices")


def _merge_duplicate_devices(bind: Any) -> None:
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for row in bind.execute(sa.text("SELECT id, site_id, address, mac, serial FROM devices ORDER BY id")):
        groups[(row.site_id, row.address, row.mac, row.serial)].append(int(row.id))
    for (_site, _address, mac, serial), ids in groups.items():
        if len(ids) < 2:
            continue
        scans: dict[int, set[str]] = defaultdict(set)
        for device_id, scan_id in bind.execute(
            sa.text("SELECT device_id, scan_id FROM identifications WHERE device_id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        ):
            scans[int(device_id)].add(str(scan_id))
        devices_per_scan = Counter(scan_id for device_scans in scans.values() for scan_id in device_scans)
        seen_together = any(count > 1 for count in devices_per_scan.values())
        if seen_together and (mac is not None or serial is not None):
            continue  # two devices in one scan: distinct on purpose
        _merge(bind, ids[0], ids[1:])


def _merge(bind: Any, keep: int, others: list[int]) -> None:
    every = [keep, *others]
    expanding: Any = sa.bindparam("ids", expanding=True)

    def run(sql: str, **params: Any) -> Any:
        statement = sa.text(sql)
        if "ids" in params:
            statement = statement.bindparams(expanding)
        return bind.execute(statement, params)

    run("UPDATE identifications SET device_id = :keep WHERE device_id IN :ids", keep=keep, ids=others)
    tags = {str(tag) for (tag,) in run("SELECT DISTINCT tag FROM device_tags WHERE device_id IN :ids", ids=every)}
    run("DELETE FROM device_tags WHERE device_id IN :ids", ids=every)
    for tag in sorted(tags):
        run("INSERT INTO device_tags (device_id, tag) VALUES (:keep, :tag)", keep=keep, tag=tag)
    findings = run(
        "SELECT id, status, reason, approver, expires, first_scan_id, last_scan_id, created_at, updated_at "
        "FROM findings WHERE device_id IN :ids ORDER BY created_at, id",
        ids=every,
    ).all()
    if findings:
        kept = findings[0]
        latest = max(findings, key=lambda f: (f.updated_at, f.id))
        dropped = [int(f.id) for f in findings[1:]]
        if dropped:
            run("UPDATE finding_history SET finding_id = :kept WHERE finding_id IN :ids", kept=kept.id, ids=dropped)
            run("DELETE FROM findings WHERE id IN :ids", ids=dropped)
            run(
                "INSERT INTO finding_history (finding_id, changed_at, actor, from_status, to_status, reason) "
                "VALUES (:kept, :now, 'trueorigin', :status, :status, :reason)",
                kept=kept.id,
                now=time.time(),
                status=latest.status,
                reason=f"merged duplicate finding(s) {', '.join(map(str, dropped))} (store migration 0002)",
            )
        run(
            "UPDATE findings SET device_id = :keep, status = :status, reason = :reason, approver = :approver, "
            "expires = :expires, last_scan_id = :last, updated_at = :updated WHERE id = :kept",
            keep=keep,
            status=latest.status,
            reason=latest.reason,
            approver=latest.approver,
            expires=latest.expires,
            last=max(findings, key=lambda f: (f.updated_at, f.id)).last_scan_id,
            updated=latest.updated_at,
            kept=kept.id,
        )
    seen = run("SELECT MIN(first_seen) AS first, MAX(last_seen) AS last FROM devices WHERE id IN :ids", ids=every).one()
    run(
        "UPDATE devices SET first_seen = :first, last_seen = :last WHERE id = :keep",
        first=seen.first,
        last=seen.last,
        keep=keep,
    )
    run("DELETE FROM devices WHERE id IN :ids", ids=others)
