"""`trueorigin diff`: appeared, disappeared, firmware and status changes, devices matched by MAC/serial/address."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

import pg_fixtures
from store_samples import sample_identifications
from trueorigin.cli import app
from trueorigin.model import Identification
from trueorigin.store import open_store
from trueorigin.store.diff import diff_identifications, diff_scans

pytestmark = pytest.mark.xdist_group("store")
pg_server = pg_fixtures.pg_server
store_url = pg_fixtures.store_url

CAMERA = Identification(
    host="198.18.0.10",
    vendor="Hikvision",
    brand="Hikvision",
    covered="yes",
    firmware="V5.5.0",
    mac="44:19:b6:00:00:10",
    serial="SN-10",
)


@pytest.mark.parametrize(
    ("after", "appeared", "disappeared", "firmware", "status"),
    [
        pytest.param(CAMERA, 0, 0, [], [], id="unchanged"),
        pytest.param(replace(CAMERA, host="198.18.0.77"), 0, 0, [], [], id="moved-address-same-mac"),
        pytest.param(replace(CAMERA, firmware="V5.7.3"), 0, 0, [("V5.5.0", "V5.7.3")], [], id="firmware-upgrade"),
        pytest.param(
            replace(CAMERA, mac=None, host="198.18.0.50"), 0, 0, [], [], id="no-mac-but-same-serial-elsewhere"
        ),
        pytest.param(
            replace(CAMERA, mac="44:19:b6:99:99:99", serial=None), 1, 1, [], [], id="same-address-new-mac-is-new"
        ),
        pytest.param(replace(CAMERA, mac=None, serial=None), 0, 0, [], [], id="address-only-fallback"),
        pytest.param(
            replace(CAMERA, vendor="Axis", covered="no"),
            0,
            0,
            [],
            [("covered", "yes", "no"), ("vendor", "Hikvision", "Axis")],
            id="reidentified-not-covered",
        ),
    ],
)
def test_diff_identifications(
    after: Identification,
    appeared: int,
    disappeared: int,
    firmware: list[tuple[str, str]],
    status: list[tuple[str, str, str]],
) -> None:
    result = diff_identifications("A", [CAMERA], "B", [after])
    assert len(result.appeared) == appeared
    assert len(result.disappeared) == disappeared
    assert [(c.before, c.after) for c in result.firmware_changed] == firmware
    assert [(c.attribute, c.before, c.after) for c in result.status_changed] == status
    assert result.unchanged == (1 if not (appeared or firmware or status) else 0)


def test_diff_remediation_status_as_of_each_scan(store_url: str) -> None:
    idents = sample_identifications()
    with open_store(store_url) as store:
        first = store.create_scan("network", [], {}, site="hq")
        for ident in idents:
            store.add_identification(first, ident)
        store.finish_scan(first)
        lts = next(f for f in store.findings() if f.identification.brand == "LTS")
        store.set_status([lts.id], "scheduled", actor="alice", reason="replacement ordered")
        second = store.create_scan("network", [], {}, site="hq")
        kept = [i for i in idents if i.host != "198.18.0.30"]  # Huawei ONT removed
        kept = [replace(i, firmware="V5.7.3") if i.host == "198.18.0.10" else i for i in kept]
        kept.append(replace(idents[5], host="198.18.0.40", mac="ac:cc:8e:00:00:40"))  # a new Axis camera
        for ident in kept:
            store.add_identification(second, ident)
        store.finish_scan(second)
        result = diff_scans(store, first, second)
    assert [i.host for i in result.appeared] == ["198.18.0.40"]
    assert [i.host for i in result.disappeared] == ["198.18.0.30"]
    assert [(c.device_after.host, c.before, c.after) for c in result.firmware_changed] == [
        ("198.18.0.10", "V5.5.0 build 170725", "V5.7.3")
    ]
    assert [(c.attribute, c.device_after.brand, c.before, c.after) for c in result.status_changed] == [
        ("remediation", "LTS", "open", "scheduled")
    ]


def test_diff_cli_json_and_table(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'd.db'}"
    with open_store(db) as store:
        first = store.create_scan("network", [], {})
        store.add_identification(first, CAMERA)
        store.finish_scan(first)
        second = store.create_scan("network", [], {})
        store.add_identification(second, replace(CAMERA, firmware="V5.7.3"))
        store.finish_scan(second)
    runner = CliRunner()
    result = runner.invoke(app, ["diff", "previous", "latest", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert (doc["a"], doc["b"]) == (first, second)
    assert [(c["from"], c["to"]) for c in doc["firmware_changed"]] == [("V5.5.0", "V5.7.3")]
    table = runner.invoke(app, ["diff", first, second, "--db", db])
    assert table.exit_code == 0
    assert "firmware changed" in table.output


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["diff", "nope", "latest"], id="unknown-scan"),
        pytest.param(["diff", "previous", "latest"], id="not-enough-scans"),
    ],
)
def test_diff_cli_bad_input_is_a_message_not_a_traceback(tmp_path: Path, args: list[str]) -> None:
    db = f"sqlite:///{tmp_path / 'd.db'}"
    with open_store(db) as store:
        store.create_scan("network", [], {})
    result = CliRunner().invoke(app, [*args, "--db", db])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
