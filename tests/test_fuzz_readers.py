"""Every reader of user files, fuzzed from real inputs: each fixture is mutated (bytes replaced, cut short,
grown) and the reader must either read it or refuse it with a TrueOriginError — never another exception.

Seeds are real: the nmap fixture, the asset export, device answers (SADP, Hikvision ISAPI) inside a capture,
a report written by `trueorigin report`, the screening inventory, observation lines of the offline contract.
`scripts/fuzz_campaign.py` runs the same targets for longer (README "Reliability" gives the campaign's size).
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path

import dpkt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trueorigin.errors import TrueOriginError
from trueorigin.observations_io import BadLine, observation_from_json, read_jsonl
from trueorigin.passive.capture import CaptureReader
from trueorigin.passive.imports import ImportStats, read_asset_csv, read_nmap_xml
from trueorigin.report.verify import load_manifest
from trueorigin.screen.readers import open_table

DATA = Path(__file__).parent / "data"
SADP = (DATA / "responses" / "sadp" / "ds-2cd2320d-i.xml").read_bytes()
HIKVISION_401 = (DATA / "responses" / "http" / "hikvision-isapi-deviceinfo-401.txt").read_bytes()
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _capture_seed() -> bytes:
    """A pcap of real answers: a SADP discovery answer and a Hikvision ISAPI answer on TCP."""
    mac = bytes.fromhex("4447cc37ce81")

    def frame(transport: dpkt.Packet, proto: int) -> bytes:
        ip = dpkt.ip.IP(
            src=socket.inet_aton("198.18.0.20"), dst=socket.inet_aton("198.18.0.1"), p=proto, data=transport, ttl=64
        )
        ip.len = len(bytes(ip))
        return bytes(dpkt.ethernet.Ethernet(src=mac, dst=b"\xff" * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=ip))

    udp = dpkt.udp.UDP(sport=37020, dport=37020, data=SADP)
    udp.ulen = len(bytes(udp))
    frames = [
        frame(udp, 17),
        frame(dpkt.tcp.TCP(sport=80, dport=40000, seq=1, flags=dpkt.tcp.TH_ACK, data=HIKVISION_401), 6),
        frame(dpkt.tcp.TCP(sport=80, dport=40000, seq=1 + len(HIKVISION_401), flags=dpkt.tcp.TH_FIN), 6),
    ]
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for index, data in enumerate(frames):
        out += struct.pack("<IIII", 1_700_000_000 + index, 0, len(data), len(data)) + data
    return bytes(out)


def _report_seed() -> bytes:
    manifest = {
        "format": "trueorigin-evidence-manifest/1",
        "scan_id": "20260101T000000Z-abcd",
        "kb_version": "2026-01-01",
        "findings": [{"finding_id": 1, "host": "198.18.0.20", "observation_sha256": ["0" * 64], "evidence_sha256": []}],
    }
    return json.dumps({"evidence_manifest": manifest, "evidence_manifest_sha256": "1" * 64}).encode()


SEEDS: dict[str, bytes] = {
    "nmap": (DATA / "passive" / "nmap-hikvision.xml").read_bytes(),
    "assets": (DATA / "passive" / "assets.csv").read_bytes(),
    "capture": _capture_seed(),
    "report": _report_seed(),
    "inventory": (DATA / "screen" / "inventory.csv").read_bytes(),
    "observations": b"".join(
        json.dumps({"host": "198.18.0.20", "protocol": p, "data": d.decode("latin-1")}).encode() + b"\n"
        for p, d in (("sadp", SADP), ("http", HIKVISION_401))
    ),
}


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """The seed with a few bytes replaced, a slice cut out or repeated, and maybe cut short."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    if data and draw(st.booleans()):
        start = draw(st.integers(0, len(data) - 1))
        end = draw(st.integers(start, min(len(data), start + 64)))
        piece = bytes(data[start:end])
        data[start:end] = piece * draw(st.integers(0, 3))  # removed (x0) or repeated
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def _read_or_refuse(name: str, data: bytes, read: Callable[[Path], object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        with contextlib.suppress(TrueOriginError):
            read(path)


def read_nmap(path: Path) -> None:
    stats = ImportStats()
    for obs in read_nmap_xml(path, stats):
        assert obs.port is None or 0 <= obs.port <= 65535


def read_assets(path: Path) -> None:
    for obs in read_asset_csv(path, ImportStats()):
        assert obs.host


def read_capture(path: Path) -> None:
    reader = CaptureReader(path)
    for _ in reader.observations():
        pass
    assert reader.read_to <= reader.size
    assert reader.damage is None or reader.damage_report()


def read_report(path: Path) -> None:
    manifest, recorded = load_manifest(path)
    assert isinstance(manifest, dict) and isinstance(recorded, str)


def read_inventory(path: Path) -> None:
    source = open_table(path)
    for batch in source.batches():
        assert batch.table.num_rows == len(batch.row_numbers)


def read_observations(path: Path) -> None:
    with path.open(encoding="utf-8", errors="surrogateescape") as stream:
        for item in read_jsonl(stream):
            assert isinstance(item, BadLine) or item.host


TARGETS: dict[str, tuple[str, Callable[[Path], object]]] = {
    "nmap": ("scan.xml", read_nmap),
    "assets": ("assets.csv", read_assets),
    "capture": ("cap.pcap", read_capture),
    "report": ("report.json", read_report),
    "inventory": ("inventory.csv", read_inventory),
    "observations": ("obs.jsonl", read_observations),
}


@FUZZ
@given(data=mutated(SEEDS["nmap"]))
def test_fuzz_nmap_xml(data: bytes) -> None:
    _read_or_refuse("scan.xml", data, read_nmap)


@FUZZ
@given(data=mutated(SEEDS["assets"]))
def test_fuzz_asset_csv(data: bytes) -> None:
    _read_or_refuse("assets.csv", data, read_assets)


@FUZZ
@given(data=mutated(SEEDS["capture"]))
def test_fuzz_capture(data: bytes) -> None:
    _read_or_refuse("cap.pcap", data, read_capture)


@FUZZ
@given(data=mutated(SEEDS["report"]))
def test_fuzz_report_manifest(data: bytes) -> None:
    _read_or_refuse("report.json", data, read_report)


@FUZZ
@given(data=mutated(SEEDS["inventory"]))
def test_fuzz_inventory_csv(data: bytes) -> None:
    _read_or_refuse("inventory.csv", data, read_inventory)


@FUZZ
@given(data=mutated(SEEDS["observations"]))
def test_fuzz_observation_lines(data: bytes) -> None:
    _read_or_refuse("obs.jsonl", data, read_observations)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=25,
)


@FUZZ
@given(
    obj=st.fixed_dictionaries(
        {},
        optional={
            "host": JSON_VALUES,
            "protocol": JSON_VALUES,
            "data": JSON_VALUES,
            "encoding": st.sampled_from(["text", "base64", "hex"]) | JSON_VALUES,
            "port": st.integers(-(2**70), 2**70) | JSON_VALUES,
            "status": JSON_VALUES,
            "time": JSON_VALUES,
        },
    )
)
def test_fuzz_observation_objects(obj: dict[str, object]) -> None:
    """Any JSON object is an observation or a ValueError with a reason: never another exception."""
    try:
        observation = observation_from_json(obj)
    except ValueError as exc:
        assert str(exc)
    else:
        assert observation.port is None or 0 <= observation.port <= 65535


@FUZZ
@given(lines=st.lists(st.text(max_size=200), max_size=20))
def test_fuzz_jsonl_text(lines: list[str]) -> None:
    for item in read_jsonl(io.StringIO("\n".join(lines))):
        assert isinstance(item, BadLine) or item.host
