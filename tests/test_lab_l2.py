"""The L2 lab: devices on a real Ethernet segment, so an active scan learns each device's MAC from the kernel's
neighbour table (ARP) and the OUI counts in scans as it does in captures (issue 13)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from needs import require
from trueorigin.lab.site import LabSite, build_manifest, can_use_namespace, namespace_exists
from trueorigin.store import open_store

pytestmark = pytest.mark.lab

HOSTS = 12


def _seed_with_covered_and_other() -> int:
    """A small site with at least one covered device and one non-covered device (deterministic)."""
    for seed in range(1, 300):
        hosts = build_manifest(HOSTS, seed, "default")["hosts"]
        if {h["covered"] for h in hosts} >= {"yes", "no"}:
            return seed
    raise AssertionError("no seed gives a mixed site")


@pytest.fixture(scope="module")
def l2_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSite]:
    require(can_use_namespace(), "the L2 lab needs root and iproute2 (`ip`) to create network namespaces")
    namespace = f"to-ident-l2-{os.getpid()}"[:40]
    site = LabSite(
        hosts=HOSTS, seed=_seed_with_covered_and_other(), namespace=namespace,
        state_dir=tmp_path_factory.mktemp("l2"), l2=True,
    )  # fmt: skip
    site.up()
    try:
        yield site
    finally:
        site.down()
    assert not namespace_exists(namespace) and not namespace_exists(site.hosts_namespace)


@pytest.fixture(scope="module")
def l2_scan(l2_site: LabSite, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    manifest = l2_site.manifest
    db = tmp_path_factory.mktemp("l2-scan") / "scan.db"
    trueorigin = str(Path(sys.executable).parent / "trueorigin")
    targets = [h["address"] for h in manifest["hosts"]]
    result = l2_site.run(
        [trueorigin, "scan", *targets, "--json", "--db", f"sqlite:///{db}", "--rate", "5000", "--site", "l2"],
        capture_output=True,
        timeout=600,
    )
    lines = [json.loads(line) for line in result.stdout.decode().splitlines() if line.strip()]
    return {"lines": lines, "stderr": result.stderr.decode(errors="replace"), "manifest": manifest, "db": db}


def test_each_device_has_its_own_mac_on_the_segment(l2_site: LabSite) -> None:
    manifest = l2_site.manifest
    assert manifest["mode"] == "l2" and manifest["scanner_address"] not in {h["address"] for h in manifest["hosts"]}
    probe = "import socket,sys\nfor a in sys.argv[1:]:\n s=socket.socket(); s.settimeout(2)\n try: s.connect((a, 80))\n except OSError: pass\n s.close()\nprint(open('/proc/net/arp').read())"  # noqa: E501
    result = l2_site.run([sys.executable, "-c", probe, *(h["address"] for h in manifest["hosts"])], capture_output=True)
    table = {line.split()[0]: line.split()[3] for line in result.stdout.decode().splitlines()[1:] if line.strip()}
    assert table == {h["address"]: h["mac"] for h in manifest["hosts"]}


def test_scan_records_the_neighbour_mac_of_every_answering_device(l2_scan: dict[str, Any]) -> None:
    assert "Traceback" not in l2_scan["stderr"], l2_scan["stderr"][-2000:]
    truth = {h["address"]: h["mac"] for h in l2_scan["manifest"]["hosts"]}
    assert l2_scan["lines"], l2_scan["stderr"][-2000:]
    for line in l2_scan["lines"]:
        assert line.get("mac") == truth[line["host"]], line
    store = open_store(f"sqlite:///{l2_scan['db']}")
    try:
        protocols = {o.protocol for scan in store.scans() for o in store.observations(scan.id)}
    finally:
        store.close()
    assert "mac" in protocols


def test_covered_devices_cite_their_oui(l2_scan: dict[str, Any]) -> None:
    covered = {h["address"] for h in l2_scan["manifest"]["hosts"] if h["covered"] == "yes"}
    cited = [
        line for line in l2_scan["lines"]
        if line["host"] in covered and any((e.get("rule") or "").startswith("oui:") for e in line["evidence"])
    ]  # fmt: skip
    assert cited, "no covered device's identification cites its MAC's IEEE assignment"
