"""Hostile device strings through every output: terminal tables and messages, JSON, CSV, XLSX, HTML.

A device value carrying ESC sequences (screen clear, OSC 8 link), Rich markup (`[link=http://x]a[/link]`), NUL
and U+202E goes through identify, scan output, import, passive, findings, scans, screen and kb explain; every
output must be free of raw control/bidi characters, show the markup literally, and never hold a live formula.
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
from pathlib import Path
from typing import Any

import dpkt
import pytest
from rich.console import Console
from typer.testing import CliRunner

from cleanliness import (
    HOSTILE,
    HOSTILE_FORMULA,
    assert_csv_clean,
    assert_html_visible,
    assert_terminal_clean,
    assert_xlsx_clean,
)
from trueorigin.cli import app
from trueorigin.model import Identification
from trueorigin.probes import snmp
from trueorigin.scan.output import render_table, write_csv, write_json_lines

MARKUP = "[link=http://x]a[/link]"
WIDE = {"COLUMNS": "2000"}  # no wrapping inside table cells, so the literal markup stays on one line
COMMUNITY = "s3cret-community-2211"


def _dhip_answer(value: str, version: str) -> bytes:
    """A DHIP discovery answer (Dahua's JSON form) whose device fields carry hostile text."""
    info = {"DeviceType": f"IPC-HDW5421S{value}", "Vendor": f"Dahua{value}", "SerialNo": value, "Version": version}
    return json.dumps({"method": "client.notifyDevInfo", "params": {"deviceInfo": info}}).encode()


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=WIDE)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def _assert_clean_and_literal(text: str, where: str, literal: bool = True) -> None:
    assert_terminal_clean(text, where)
    assert "Traceback" not in text
    if literal:
        assert MARKUP in text, f"{where}: the markup is not shown literally\n{text}"
    assert "\\x1b" in text or "<U+202E>" in text or not literal, f"{where}: the hostile value is not shown"


@pytest.fixture
def hostile_jsonl(tmp_path: Path) -> Path:
    line = {"host": "198.18.0.31", "protocol": "dhip", "data": _dhip_answer(HOSTILE, HOSTILE_FORMULA).decode()}
    path = tmp_path / "hostile.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    return path


def test_identify_table_and_json(hostile_jsonl: Path) -> None:
    code, out, err = _run("identify", str(hostile_jsonl))
    assert code == 1  # Dahua: covered
    _assert_clean_and_literal(out + err, "identify")
    code, out, err = _run("identify", str(hostile_jsonl), "--json")
    assert_terminal_clean(out + err, "identify --json")
    [record] = [json.loads(line) for line in out.splitlines()]
    assert record["brand"] == f"Dahua{HOSTILE}"  # JSON escapes, never changes, the value


def _hostile_ident() -> Identification:
    return Identification(
        host="198.18.0.32",
        vendor="Dahua",
        brand=HOSTILE_FORMULA,
        model=HOSTILE,
        firmware="@SUM(1+1)*cmd|' /C calc'!A0",
        kind="camera",
        covered="yes",
        confidence=0.9,
        mac="-2+3",
    )


def test_scan_output_table_csv_and_json(tmp_path: Path) -> None:
    ident = _hostile_ident()
    buffer = io.StringIO()
    render_table([ident], Console(file=buffer, width=2000), title=f"scan {HOSTILE}")
    _assert_clean_and_literal(buffer.getvalue(), "scan table")
    path = tmp_path / "scan.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        write_csv([ident], handle)
    rows = assert_csv_clean(path)
    assert rows[1][2].startswith("'=HYPERLINK")
    lines = io.StringIO()
    write_json_lines([ident], lines)
    assert_terminal_clean(lines.getvalue(), "scan --json")
    assert json.loads(lines.getvalue())["model"] == HOSTILE


def test_import_asset_export(tmp_path: Path) -> None:
    path = tmp_path / "assets.csv"
    path.write_text(
        "ip,manufacturer,model,firmware\n"
        f'198.18.2.40,Hikvision{HOSTILE},"DS-2CD2143G0-I{HOSTILE}","{HOSTILE_FORMULA.replace(chr(34), chr(34) * 2)}"\n',
        encoding="utf-8",
    )
    code, out, err = _run("import", str(path), "--no-store")
    assert code in (0, 1)
    _assert_clean_and_literal(out + err, "import")


def _udp_frame(src: str, sport: int, dst: str, dport: int, payload: bytes) -> bytes:
    udp = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
    udp.ulen = len(bytes(udp))
    ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=dpkt.ip.IP_PROTO_UDP, data=udp, ttl=64)
    ip.len = len(bytes(ip))
    mac = bytes.fromhex("3c1bf8000001")
    return bytes(dpkt.ethernet.Ethernet(src=mac, dst=b"\xff" * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=ip))


def snmp_get_response(community: str, descr: bytes) -> bytes:
    """An SNMPv2c GetResponse for sysDescr.0 and sysObjectID.0 (RFC 3416), echoing the request's community."""
    bindings = snmp.encode_tlv(
        snmp.SEQUENCE,
        snmp.encode_tlv(snmp.SEQUENCE, snmp.encode_oid(snmp.SYSDESCR_OID) + snmp.encode_tlv(4, descr))
        + snmp.encode_tlv(
            snmp.SEQUENCE,
            snmp.encode_oid(snmp.SYSOBJECTID_OID) + snmp.encode_oid("1.3.6.1.4.1.2011.2.23.1"),
        ),
    )
    pdu = snmp.encode_tlv(0xA2, snmp.encode_integer(7) + snmp.encode_integer(0) + snmp.encode_integer(0) + bindings)
    return snmp.encode_tlv(snmp.SEQUENCE, snmp.encode_integer(1) + snmp.encode_tlv(4, community.encode()) + pdu)


@pytest.fixture
def hostile_capture(tmp_path: Path) -> Path:
    frames = [
        _udp_frame("198.18.0.33", 37810, "198.18.0.1", 37810, _dhip_answer(HOSTILE, HOSTILE_FORMULA)),
        _udp_frame("198.18.0.34", 161, "198.18.0.1", 40161, snmp_get_response(COMMUNITY, b"Huawei S5720 switch")),
    ]
    path = tmp_path / "hostile.pcap"
    with path.open("wb") as handle:
        writer = dpkt.pcap.Writer(handle, linktype=dpkt.pcap.DLT_EN10MB)
        for index, frame in enumerate(frames):
            writer.writepkt(frame, ts=1_700_000_000 + index)
    return path


def test_passive_findings_scans_and_report(hostile_capture: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "store.db"
    db = f"sqlite:///{db_path}"
    code, out, err = _run("passive", str(hostile_capture), "--db", db, "--site", f"site{HOSTILE}")
    assert code == 1
    _assert_clean_and_literal(out + err, "passive")
    assert "198.18.0.34" in out  # the SNMP answer was read

    code, out, err = _run("findings", "list", "--db", db)
    assert code == 0
    _assert_clean_and_literal(out + err, "findings list")
    code, out, err = _run("findings", "list", "--db", db, "--json")
    assert_terminal_clean(out + err, "findings list --json")
    code, out, err = _run("scans", "--db", db)
    assert code == 0
    _assert_clean_and_literal(out + err, "scans")
    code, out, err = _run("findings", "set", "waived", "--site", f"site{HOSTILE}", "--reason", HOSTILE_FORMULA,
                          "--approver", HOSTILE, "--expires", "2099-01-01", "--by", HOSTILE, "--db", db)  # fmt: skip
    assert code == 0, out + err
    _assert_clean_and_literal(out + err, "findings set")
    code, out, err = _run("findings", "history", "--db", db)
    assert code == 0
    _assert_clean_and_literal(out + err, "findings history")

    html = tmp_path / "report.html"
    code, out, err = _run("report", "--db", db, "--format", "html", "--out", str(html))
    assert code == 0, out + err
    assert_terminal_clean(out + err, "report")
    text = html.read_text(encoding="utf-8")
    assert_html_visible(text)
    assert "\\x00" in text and "&lt;U+202E&gt;" in text and "\\x1b" in text

    report_csv = tmp_path / "report.csv"
    code, out, err = _run("report", "--db", db, "--format", "csv", "--out", str(report_csv))
    assert code == 0, out + err
    rows = assert_csv_clean(report_csv)
    firmware = rows[0].index("firmware")
    assert any(row[firmware].startswith("'=HYPERLINK") for row in rows[1:])
    reason = rows[0].index("reason")
    assert any(row[reason].startswith("'=HYPERLINK") for row in rows[1:])  # a reviewer's text, guarded too


def test_passive_never_stores_the_snmp_community(hostile_capture: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "store.db"
    code, out, err = _run("passive", str(hostile_capture), "--db", f"sqlite:///{db_path}", "--json")
    assert code == 1
    for path in tmp_path.iterdir():
        if path.name.startswith("store.db"):
            assert COMMUNITY.encode() not in path.read_bytes(), f"community stored in {path.name}"
    assert COMMUNITY not in out + err
    hosts = {json.loads(line)["host"]: json.loads(line) for line in out.splitlines()}
    # the values still identify the switch (its sysObjectID names Huawei's enterprise number)
    assert hosts["198.18.0.34"]["vendor"] == "Huawei"


@pytest.fixture
def hostile_inventory(tmp_path: Path) -> Path:
    hostile = HOSTILE.replace("\x00", "")  # screen refuses a text inventory with NUL bytes as binary
    header = ["Manufacturer", "Model", '=HYPERLINK("http://evil.example","click")', f"Notes{hostile}"]
    rows = [
        [
            "Hikvision",
            f"DS-2CD2143G0-I{hostile}",
            '=HYPERLINK("http://evil.example","x")' + hostile,
            "+1+cmd|' /C calc'!A0",
        ],
        [f"Dahua{hostile}", "IPC-HDW5421S", "@SUM(1)", "-2+3"],
        ["Axis", "P3245-LVE", "plain", "-3"],
    ]
    path = tmp_path / "inventory.csv"
    text = io.StringIO()
    import csv

    csv.writer(text).writerows([header, *rows])
    path.write_text(text.getvalue(), encoding="utf-8")
    return path


def test_screen_table_csv_and_xlsx(hostile_inventory: Path, tmp_path: Path) -> None:
    code, out, err = _run("screen", "run", str(hostile_inventory), "--no-decisions")
    assert code == 1, out + err  # covered rows found
    _assert_clean_and_literal(out + err, "screen")

    out_csv = tmp_path / "screened.csv"
    code, out, err = _run("screen", "run", str(hostile_inventory), "--no-decisions", "--out", str(out_csv))
    assert code == 1, out + err
    assert_terminal_clean(out + err, "screen --out")
    rows = assert_csv_clean(out_csv)
    assert rows[0][2].startswith("'=HYPERLINK") and rows[1][2].startswith("'=HYPERLINK")
    assert rows[3][3] == "-3"  # a plain number stays a number

    out_xlsx = tmp_path / "screened.xlsx"
    code, out, err = _run("screen", "run", str(hostile_inventory), "--no-decisions", "--out", str(out_xlsx))
    assert code == 1, out + err
    cells = assert_xlsx_clean(out_xlsx)
    assert str(cells[0][2]).startswith("'=HYPERLINK")

    code, out, err = _run("screen", "run", str(hostile_inventory), "--no-decisions", "--json")
    assert_terminal_clean(out + err, "screen --json")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("[/link]", id="closing-tag"),
        pytest.param(MARKUP, id="link-markup"),
        pytest.param(HOSTILE, id="escapes-and-bidi"),
        pytest.param("[bold]x\\", id="trailing-backslash"),
    ],
)
def test_kb_explain_unknown_hostile_name(name: str) -> None:
    code, out, err = _run("kb", "explain", name)
    assert code == 3  # unknown to the knowledge base: a person must look (not a crash, exit 70)
    assert_terminal_clean(out + err, "kb explain")
    assert "Traceback" not in out + err
    assert "not known" in err


HOSTILE_XML_TEXT = "\u009b2J[link=http://x]a[/link]\u202egnp.exe"  # C1 CSI is legal in XML 1.0, ESC is not


def test_scan_cli_end_to_end(tmp_path: Path) -> None:
    """A real scan of a loopback 'camera' whose ISAPI answer carries hostile text: table and --csv are clean."""
    from test_scan_cli import BackgroundServers, cli, loopback_block

    model = f"DS-2CD2143G0-I{HOSTILE_XML_TEXT}".encode()
    firmware = b'=HYPERLINK("http://evil.example","x")' + HOSTILE_XML_TEXT.encode()
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<DeviceInfo xmlns="http://www.hikvision.com/ver20/XMLSchema">'
        b"<deviceName>IP CAMERA</deviceName><model>" + model + b"</model><firmwareVersion>" + firmware
        + b"</firmwareVersion><deviceType>IPCamera</deviceType></DeviceInfo>\n"
    )  # fmt: skip

    async def handle(reader: Any, writer: Any) -> None:
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            writer.close()
            return
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nServer: App-webs/\r\nConnection: close\r\n"
        writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()

    host = f"{loopback_block()}.9"
    servers = BackgroundServers()
    try:
        servers.add(host, 80, handle)
        common = [host, "--ports", "80", "--no-udp", "--timeout", "2"]
        table = cli("scan", *common, "--db", f"sqlite:///{tmp_path / 'a.db'}")
        as_csv = cli("scan", *common, "--csv", "--db", f"sqlite:///{tmp_path / 'b.db'}")
    finally:
        servers.close()
    assert table.returncode == 1, table.stdout + table.stderr  # Hikvision: covered
    assert_terminal_clean(table.stdout + table.stderr, "scan")
    assert "<U+202E>" in table.stdout and "\\x9b" in table.stdout
    path = tmp_path / "scan.csv"
    path.write_text(as_csv.stdout, encoding="utf-8")
    rows = assert_csv_clean(path)
    firmware_column = rows[0].index("firmware")
    assert rows[1][firmware_column].startswith("'=HYPERLINK"), rows
