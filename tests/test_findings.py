"""Findings: filters, bulk status changes with history, waivers and their expiry (API and CLI)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import pg_fixtures
from store_samples import sample_identifications
from trueorigin.cli import app
from trueorigin.errors import InputError
from trueorigin.store import FindingFilter, Store, open_store

pytestmark = pytest.mark.xdist_group("store")
pg_server = pg_fixtures.pg_server
store_url = pg_fixtures.store_url

TODAY = dt.date(2026, 11, 24)


def _filled(url: str) -> Store:
    store = open_store(url)
    hq = store.create_scan("network", ["198.18.0.0/24"], {}, site="hq")
    for ident in sample_identifications()[:4]:
        store.add_identification(hq, ident)
    branch = store.create_scan("network", ["198.18.0.0/24"], {}, site="branch")
    for ident in sample_identifications()[4:]:
        store.add_identification(branch, ident)
    return store


@pytest.mark.parametrize(
    ("flt", "hosts"),
    [
        pytest.param(
            FindingFilter(),
            {"198.18.0.10", "198.18.0.11", "198.18.0.12", "198.18.0.13", "198.18.0.14", "198.18.0.30"},
            id="all",
        ),
        pytest.param(FindingFilter(site="branch"), {"198.18.0.14", "198.18.0.30"}, id="site"),
        pytest.param(FindingFilter(vendor="hikvision"), {"198.18.0.10", "198.18.0.11"}, id="vendor-any-case"),
        pytest.param(FindingFilter(brand="Lorex"), {"198.18.0.13"}, id="brand"),
        pytest.param(FindingFilter(subnet="198.18.0.8/30"), {"198.18.0.10", "198.18.0.11"}, id="subnet"),
        pytest.param(FindingFilter(covered="review"), {"198.18.0.14"}, id="covered"),
        pytest.param(FindingFilter(vendor="Dahua", site="hq"), {"198.18.0.12", "198.18.0.13"}, id="combined"),
    ],
)
def test_filters(store_url: str, flt: FindingFilter, hosts: set[str]) -> None:
    with _filled(store_url) as store:
        assert {f.identification.host for f in store.findings(flt)} == hosts


def test_bad_subnet_is_input_error(store_url: str) -> None:
    with _filled(store_url) as store, pytest.raises(InputError, match="subnet"):
        store.findings(FindingFilter(subnet="not-a-net"))


def test_bulk_status_records_history(store_url: str) -> None:
    with _filled(store_url) as store:
        hik = [f.id for f in store.findings(FindingFilter(vendor="Hikvision"))]
        assert store.set_status(hik, "scheduled", actor="alice", reason="PO 4711") == sorted(hik)
        assert store.set_status(hik, "scheduled", actor="alice", reason="PO 4711") == []  # no-op, no history
        assert store.set_status(hik[:1], "replaced", actor="bob", reason="swapped for Axis") == hik[:1]
        statuses = {f.id: f.status for f in store.findings()}
        assert statuses[hik[0]] == "replaced"
        assert statuses[hik[1]] == "scheduled"
        history = [(h.from_status, h.to_status, h.actor, h.reason) for h in store.history([hik[0]])]
        assert history[1:] == [
            ("open", "scheduled", "alice", "PO 4711"),
            ("scheduled", "replaced", "bob", "swapped for Axis"),
        ]
        assert store.findings(FindingFilter(status="scheduled"))[0].id == hik[1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"status": "gone"}, "status must be", id="unknown-status"),
        pytest.param({"status": "waived", "reason": "x", "approver": "ciso"}, "--expires", id="waiver-no-expiry"),
        pytest.param({"status": "waived", "approver": "ciso", "expires": "2027-01-01"}, "--reason", id="no-reason"),
        pytest.param({"status": "waived", "reason": "x", "expires": "2027-01-01"}, "--approver", id="no-approver"),
        pytest.param(
            {"status": "waived", "reason": "x", "approver": "ciso", "expires": "2026-11-24"},
            "after today",
            id="expiry-not-in-future",
        ),
        pytest.param(
            {"status": "waived", "reason": "x", "approver": "ciso", "expires": "next week"}, "date", id="bad-date"
        ),
        pytest.param({"status": "replaced", "expires": "2027-01-01"}, "only apply", id="expiry-without-waiver"),
    ],
)
def test_invalid_status_changes(store_url: str, kwargs: dict[str, str], message: str) -> None:
    with _filled(store_url) as store:
        ids = [f.id for f in store.findings()]
        with pytest.raises(InputError, match=message):
            store.set_status(ids, actor="alice", today=TODAY, **kwargs)  # type: ignore[arg-type]
        assert all(f.status == "open" for f in store.findings())  # nothing half-applied


def test_unknown_finding_id_changes_nothing(store_url: str) -> None:
    with _filled(store_url) as store:
        first = store.findings()[0].id
        with pytest.raises(InputError, match="no finding"):
            store.set_status([first, 9999], "removed", actor="alice")
        assert store.findings()[0].status == "open"


def test_waiver_expires(store_url: str) -> None:
    with _filled(store_url) as store:
        (hytera_like,) = store.findings(FindingFilter(covered="review"))
        store.set_status(
            [hytera_like.id],
            "waived",
            actor="alice",
            reason="lab only",
            approver="ciso",
            expires="2026-12-01",
            today=TODAY,
        )
        (waived,) = store.findings(FindingFilter(covered="review"))
        assert waived.effective_status(TODAY) == "waived"
        assert waived.effective_status(dt.date(2026, 12, 1)) == "waived"  # valid through its last day
        assert waived.effective_status(dt.date(2026, 12, 2)) == "open"
        assert waived.waiver_expired(dt.date(2026, 12, 2))
        assert [f.id for f in store.findings(FindingFilter(status="open"), today=dt.date(2026, 12, 2))].count(
            waived.id
        ) == 1
        assert store.expire_waivers(today=TODAY) == []
        assert store.expire_waivers(today=dt.date(2026, 12, 2)) == [waived.id]
        last = store.history([waived.id])[-1]
        assert (last.from_status, last.to_status, last.reason) == ("waived", "open", "waiver expired on 2026-12-01")
        (reopened,) = store.findings(FindingFilter(covered="review"))
        assert (reopened.status, reopened.approver, reopened.expires) == ("open", None, None)


def test_findings_cli_bulk_set_and_list(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'f.db'}"
    _filled(db).close()
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "findings",
            "set",
            "waived",
            "--site",
            "hq",
            "--vendor",
            "Dahua",
            "--reason",
            "isolated VLAN",
            "--approver",
            "ciso",
            "--expires",
            "2099-12-31",
            "--by",
            "alice",
            "--db",
            db,
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["changed"]) == 2
    listed = runner.invoke(app, ["findings", "list", "--status", "waived", "--db", db, "--json"])
    assert listed.exit_code == 0, listed.output
    docs = json.loads(listed.output)
    assert {d["identification"]["host"] for d in docs} == {"198.18.0.12", "198.18.0.13"}
    assert {(d["approver"], d["expires"]) for d in docs} == {("ciso", "2099-12-31")}
    history = runner.invoke(app, ["findings", "history", str(docs[0]["id"]), "--db", db, "--json"])
    assert json.loads(history.output)[-1]["actor"] == "alice"
    table = runner.invoke(app, ["findings", "list", "--db", db], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "until 2099-12-31" in table.output


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["findings", "set", "removed"], id="no-selector"),
        pytest.param(["findings", "set", "waived", "--site", "hq"], id="waiver-without-terms"),
        pytest.param(["findings", "set", "removed", "4242"], id="unknown-id"),
        pytest.param(["findings", "list", "--subnet", "x/99"], id="bad-subnet"),
        pytest.param(["findings", "list", "--covered", "maybe"], id="bad-covered"),
        pytest.param(["findings", "list", "--status", "fixed"], id="bad-status"),
    ],
)
def test_findings_cli_bad_input(tmp_path: Path, args: list[str]) -> None:
    db = f"sqlite:///{tmp_path / 'f.db'}"
    _filled(db).close()
    result = CliRunner().invoke(app, [*args, "--db", db])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output


def test_tags_mark_devices_across_scans_and_filter(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    with _filled(db) as store:
        hik = sorted(f.id for f in store.findings(FindingFilter(vendor="Hikvision")))
    runner = CliRunner()
    tagged = runner.invoke(app, ["findings", "tag", "lobby", *map(str, hik), "--db", db])
    assert tagged.exit_code == 0, tagged.output
    with open_store(db) as store:
        # The same devices seen again in a new scan keep their tags.
        rescan = store.create_scan("network", [], {}, site="hq")
        for ident in sample_identifications()[:2]:
            store.add_identification(rescan, ident)
    listed = runner.invoke(app, ["findings", "list", "--tag", "LOBBY", "--scan", "latest", "--db", db, "--json"])
    assert listed.exit_code == 0, listed.output
    assert sorted(d["id"] for d in json.loads(listed.output)) == hik
    moved = runner.invoke(app, ["findings", "set", "scheduled", "--tag", "lobby", "--reason", "swap", "--db", db])
    assert moved.exit_code == 0 and "2 of 2" in moved.output
    missing = runner.invoke(app, ["findings", "tag", "lobby", "999", "--db", db])
    assert missing.exit_code == 2


def test_scans_cli_lists_scans_oldest_first(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    with _filled(db) as store:
        expected = [s.id for s in store.scans()]
        store.finish_scan(expected[0])
    runner = CliRunner()
    result = runner.invoke(app, ["scans", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    docs = json.loads(result.output)
    assert [d["id"] for d in docs] == expected
    assert [(d["site"], d["status"], d["identifications"]) for d in docs] == [
        ("hq", "complete", 4),
        ("branch", "running", 3),
    ]
    table = runner.invoke(app, ["scans", "--db", db], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and expected[1] in table.output
