"""Passive audit of real lab traffic: tcpdump records a scan inside the lab's namespace, then
`trueorigin passive` must reach the same verdicts from the capture alone, and match the ground truth."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from needs import require, require_tool
from trueorigin.lab.site import LabSite

pytestmark = pytest.mark.lab

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def captured(lab_site: LabSite, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require(lab_site.mode == "namespace", "capturing lab traffic needs the lab's own network namespace")
    require_tool("tcpdump", install="apt-get install tcpdump")
    manifest = lab_site.manifest
    hosts = [h for h in manifest["hosts"] if not h.get("hostile")][:40]
    work = tmp_path_factory.mktemp("passive-lab")
    pcap = work / "lab.pcap"
    dump = subprocess.Popen(
        ["ip", "netns", "exec", lab_site.namespace, "tcpdump", "-i", "lo", "-U", "-s", "0", "-w", str(pcap)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert dump.stderr is not None
        dump.stderr.readline()  # "tcpdump: listening on lo ..." once the capture runs
        scan = lab_site.run(
            [str(BIN / "trueorigin"), "scan", *[h["address"] for h in hosts], "--json",
             "--db", f"sqlite:///{work / 'scan.db'}"],
            capture_output=True,
            timeout=300,
        )  # fmt: skip
        time.sleep(0.5)  # let tcpdump write the last packets
    finally:
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=30)
    active = [json.loads(line) for line in scan.stdout.decode().splitlines() if line.strip()]
    passive = subprocess.run(
        [str(BIN / "trueorigin"), "passive", str(pcap), "--json", "--no-store"],
        capture_output=True,
        timeout=300,
    )
    found = [json.loads(line) for line in passive.stdout.decode().splitlines() if line.strip()]
    return {"hosts": hosts, "active": active, "passive": found, "stderr": passive.stderr.decode(), "pcap": pcap}


def test_capture_is_read_without_errors(captured: dict[str, Any]) -> None:
    assert captured["pcap"].stat().st_size > 0
    assert "Traceback" not in captured["stderr"]
    assert captured["passive"], captured["stderr"]


def test_passive_verdicts_equal_the_active_ones(captured: dict[str, Any]) -> None:
    passive = {h["host"]: h for h in captured["passive"]}
    compared = 0
    for active in captured["active"]:
        if not active["vendor"]:
            continue
        seen = passive.get(active["host"])
        assert seen is not None, f"{active['host']} ({active['vendor']}) missing from the passive audit"
        assert (seen["vendor"], seen["covered"]) == (active["vendor"], active["covered"]), active["host"]
        compared += 1
    assert compared >= 10


def test_passive_matches_ground_truth(captured: dict[str, Any]) -> None:
    truth = {h["address"]: h for h in captured["hosts"]}
    passive = {h["host"]: h for h in captured["passive"]}
    for address, host in truth.items():
        seen = passive.get(address)
        if host["covered"] == "no":
            assert seen is None or seen["covered"] != "yes", f"{address} ({host['profile']}) marked covered"
        elif seen is not None and seen["vendor"]:
            assert seen["vendor"] == host["vendor"], f"{address} ({host['profile']})"
