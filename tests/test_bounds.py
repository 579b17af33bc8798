"""The stated limits (trueorigin.limits) hold where they are enforced, and imports keep what they promise."""

from __future__ import annotations

import io
import socket
import struct
from pathlib import Path

import dpkt
import pytest
from typer.testing import CliRunner

import trueorigin.passive.capture as capture
from trueorigin.cli import app
from trueorigin.errors import LimitError
from trueorigin.limits import MiB, bounded_lines, read_bounded
from trueorigin.passive.imports import ImportStats, read_nmap_xml
from trueorigin.store import open_store


def _tcp_frame(server: str, client_port: int, seq: int, payload: bytes) -> bytes:
    tcp = dpkt.tcp.TCP(sport=80, dport=client_port, seq=seq, flags=dpkt.tcp.TH_ACK, data=payload)
    ip = dpkt.ip.IP(src=socket.inet_aton(server), dst=socket.inet_aton("198.18.255.254"), p=6, data=tcp, ttl=64)
    ip.len = len(bytes(ip))
    return bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=ip))


def test_open_flows_share_one_buffer_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many flows that never close: buffered bytes stay under the budget (the oldest flows are finished first)."""
    monkeypatch.setattr(capture, "MAX_BUFFERED_BYTES", 256 * 1024)
    path = tmp_path / "open-flows.pcap"
    body = b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n" + b"y" * 1300
    with path.open("wb") as handle:
        writer = dpkt.pcap.Writer(handle, linktype=dpkt.pcap.DLT_EN10MB)
        for flow in range(300):  # 300 flows x 10 segments x 1.3 kB = 4 MB held if nothing were finished
            for segment in range(10):
                frame = _tcp_frame(
                    f"198.18.{flow // 200}.{flow % 200 + 1}", 20000 + flow, 1 + segment * len(body), body
                )
                writer.writepkt(frame, ts=1_700_000_000)
    reader = capture.CaptureReader(path)
    peak = 0
    seen = 0
    for _ in reader.observations():
        seen += 1
        peak = max(peak, reader.buffered)
    assert peak <= 256 * 1024 + len(body)  # at most one segment over, before the oldest flow is finished
    assert seen == 300  # every flow still gives its answer
    assert reader.damage is None


def test_bounded_lines_skip_an_endless_line_without_holding_it() -> None:
    stream = io.StringIO("a" * (3 * MiB) + "\n" + '{"x": 1}\n')
    lines = list(bounded_lines(stream, 1 * MiB, None, "test"))
    assert lines == [(1, None), (2, '{"x": 1}\n')]
    with pytest.raises(LimitError, match="limit"):
        list(bounded_lines(io.StringIO("z" * (5 * MiB)), 1 * MiB, 2 * MiB, "test"))


def test_read_bounded_stops_at_the_limit() -> None:
    assert read_bounded(io.BytesIO(b"abc"), 3, "x") == b"abc"
    with pytest.raises(LimitError):
        read_bounded(io.BytesIO(b"abcd"), 3, "x")


def test_nmap_addresses_and_ports_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "scan.xml"
    path.write_text(
        '<?xml version="1.0"?><nmaprun>'
        '<host><address addr="not-an-ip" addrtype="ipv4"/><ports><port protocol="tcp" portid="80">'
        '<state state="open"/></port></ports></host>'
        '<host><address addr="192.0.2.8" addrtype="ipv4"/><ports>'
        '<port protocol="tcp" portid="70000"><state state="open"/></port>'
        '<port protocol="tcp" portid="443"><state state="open"/></port></ports></host></nmaprun>'
    )
    stats = ImportStats()
    observations = list(read_nmap_xml(path, stats))
    assert [(o.host, o.port) for o in observations] == [("192.0.2.8", 443)]
    assert stats.skipped == {"hosts whose address is not an IP address": 1, "ports outside 0-65535": 1}


def test_asset_csv_site_column_is_honoured(tmp_path: Path) -> None:
    assets = tmp_path / "assets.csv"
    assets.write_text(
        "ip,manufacturer,model,site\n10.0.0.1,Hikvision,DS-2CD2143G0-I,hq\n10.0.0.2,Axis,P3245,branch\n"
        "10.0.0.3,Axis,P3245,\n"
    )
    db = f"sqlite:///{tmp_path / 'store.db'}"
    result = CliRunner().invoke(app, ["import", str(assets), "--db", db, "--site", "default-site", "--json"])
    assert result.exit_code == 1, result.output  # a Hikvision camera: covered
    with open_store(db) as store:
        sites = {scan.site: [i.host for i in store.identifications(scan.id)] for scan in store.scans()}
    assert sites == {"hq": ["10.0.0.1"], "branch": ["10.0.0.2"], "default-site": ["10.0.0.3"]}


def test_damaged_capture_says_where_it_stopped(tmp_path: Path) -> None:
    frames = [_tcp_frame("198.18.0.9", 20000, 1, b"SSH-2.0-x\r\n")] * 4
    data = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for frame in frames:
        data += struct.pack("<IIII", 1_700_000_000, 0, len(frame), len(frame)) + frame
    record = 16 + len(frames[0])
    data[24 + 2 * record + 8 : 24 + 2 * record + 12] = struct.pack("<I", 5_000_000)  # third record's length
    path = tmp_path / "damaged.pcap"
    path.write_bytes(bytes(data))
    reader = capture.CaptureReader(path)
    list(reader.observations())
    assert reader.packets == 2 and reader.read_to == 24 + 2 * record
    report = reader.damage_report()
    assert report is not None and f"stopped at byte {24 + 2 * record}" in report and "2 packets" in report
    result = CliRunner().invoke(app, ["passive", str(path), "--no-store"])
    assert result.exit_code == 4 and "damaged capture" in result.stderr


def test_every_limit_is_listed_in_the_readme() -> None:
    import trueorigin.limits as limits

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Limits on input") :]
    names = [n for n in vars(limits) if n.isupper() and n != "MiB"]
    assert names and [n for n in names if f"`{n}`" not in section and n not in section] == []
