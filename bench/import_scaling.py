"""How `trueorigin import` (asset CSV) and `trueorigin passive` (a capture) scale with the number of hosts.

For each size it writes an asset export and a capture of that many hosts (makers drawn from real covered and
non-covered ones; each capture host sends one real SADP discovery answer, tests/data/responses/sadp, with its
own MAC and serial), runs the
command in a child process against a fresh SQLite store, and prints seconds, milliseconds per host and the
child's peak RSS. The time per host must stay flat as the size grows: that is the claim measured.

Peers measured in the same run on the same files: DuckDB reading the CSV (`read_csv`), and tshark decoding the
capture (`tshark -r FILE -T fields -e ip.src`) when it is installed. They do much less than an audit; the ratio
only anchors the figures to something a reader can rerun.

    .venv/bin/python bench/import_scaling.py --sizes 1000,2000,4000,8000
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dpkt

ROOT = Path(__file__).resolve().parents[1]
SADP = ROOT / "tests" / "data" / "responses" / "sadp" / "ds-2cd2320d-i.xml"
MAKERS = [
    ("Hikvision", "DS-2CD2143G0-I"),
    ("Axis", "P3245-LVE"),
    ("Dahua", "IPC-HFW2431S-S-S2"),
    ("Cisco", "C9200L-24T-4G"),
    ("HP", "LaserJet Pro M404dn"),
    ("Amcrest", "IP8M-2496EB"),
]


def _address(i: int) -> str:
    return f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255 or 1}"


def write_assets(path: Path, hosts: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("ip,mac,manufacturer,model,site\n")
        for i in range(hosts):
            maker, model = MAKERS[i % len(MAKERS)]
            mac = f"02:00:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"
            handle.write(f"{_address(i)},{mac},{maker},{model},\n")


def write_capture(path: Path, hosts: int) -> None:
    answer = SADP.read_bytes()
    with path.open("wb") as handle:
        writer = dpkt.pcap.Writer(handle, linktype=dpkt.pcap.DLT_EN10MB)
        for i in range(hosts):
            mac = bytes([0x44, 0x47, 0xCC, i >> 16 & 255, i >> 8 & 255, i & 255])
            own = answer.replace(b"44-47-cc-37-ce-81", "-".join(f"{b:02x}" for b in mac).encode())
            own = own.replace(b"AACHC52932642", f"AACHC{i:08d}".encode())  # each camera its own serial, as real ones
            udp = dpkt.udp.UDP(sport=37020, dport=37020, data=own)
            udp.ulen = len(bytes(udp))
            ip = dpkt.ip.IP(
                src=socket.inet_aton(_address(i)), dst=socket.inet_aton("239.255.255.250"), p=17, data=udp, ttl=64
            )
            ip.len = len(bytes(ip))
            frame = dpkt.ethernet.Ethernet(src=mac, dst=b"\xff" * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=ip)
            writer.writepkt(bytes(frame), ts=1_700_000_000 + i / 1000)


def run_child(command: list[str]) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, exit code, peak RSS in MiB) of one child process.

    CPU time is what to compare across sizes on a shared machine: wall time also counts waiting for the cores.
    """
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if child.stderr is not None:
        child.stderr.close()
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, os.waitstatus_to_exitcode(status), usage.ru_maxrss // 1024


def duckdb_seconds(csv_path: Path) -> float:
    import duckdb

    started = time.perf_counter()
    duckdb.sql(f"SELECT count(*), count(DISTINCT ip) FROM read_csv('{csv_path}', all_varchar=true)").fetchall()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,2000,4000,8000", help="Host counts, comma-separated.")
    parser.add_argument("--skip-passive", action="store_true", help="Only measure `import`.")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    trueorigin = str(Path(sys.executable).parent / "trueorigin")
    tshark = shutil.which("tshark")
    print(
        f"{'command':<8} {'hosts':>7} {'wall s':>8} {'CPU s':>8} {'CPU ms/host':>11} {'peak MiB':>8}  peer (same file)"
    )
    failed = False
    with tempfile.TemporaryDirectory(prefix="trueorigin-scaling-") as scratch:
        folder = Path(scratch)
        for hosts in sizes:
            assets = folder / f"assets-{hosts}.csv"
            write_assets(assets, hosts)
            db = f"sqlite:///{folder / f'import-{hosts}.db'}"
            seconds, cpu, code, peak = run_child([trueorigin, "import", str(assets), "--db", db, "--json"])
            peer = duckdb_seconds(assets)
            failed |= code not in (0, 1, 3)
            print(
                f"{'import':<8} {hosts:>7} {seconds:>8.1f} {cpu:>8.1f} {1000 * cpu / hosts:>11.2f} {peak:>8}  "
                f"duckdb {peer:.3f} s wall (x{seconds / max(peer, 1e-6):,.0f}); exit {code}",
                flush=True,
            )
            if args.skip_passive:
                continue
            capture = folder / f"capture-{hosts}.pcap"
            write_capture(capture, hosts)
            db = f"sqlite:///{folder / f'passive-{hosts}.db'}"
            seconds, cpu, code, peak = run_child([trueorigin, "passive", str(capture), "--db", db, "--json"])
            failed |= code not in (0, 1, 3)
            note = "tshark not installed"
            if tshark:
                peer_seconds, _, _, _ = run_child([tshark, "-r", str(capture), "-T", "fields", "-e", "ip.src"])
                note = f"tshark {peer_seconds:.2f} s wall (x{seconds / max(peer_seconds, 1e-6):,.1f})"
            print(
                f"{'passive':<8} {hosts:>7} {seconds:>8.1f} {cpu:>8.1f} {1000 * cpu / hosts:>11.2f} {peak:>8}  "
                f"{note}; exit {code}",
                flush=True,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
