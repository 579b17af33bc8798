"""The hostile corpus: inputs an attacker or a careless user gives trueorigin, one row per case.

A row names the command line (with `{file}`-style placeholders for the inputs it needs), the inputs as small
generator functions (big inputs are written at test time, never committed), the documented exit code
(README "Reliability"), a memory cap, and what must (not) be said. `test_hostile_corpus.py` replays every row
in a child process. Other areas add their rows here (store damage, scan scope): write a generator and a `Case`.
"""

from __future__ import annotations

import json
import socket
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dpkt

from trueorigin.errors import EXIT_CLEAN, EXIT_COVERED, EXIT_DAMAGED, EXIT_REVIEW, EXIT_USAGE

DATA = Path(__file__).resolve().parents[1] / "data"
SADP = (DATA / "responses" / "sadp" / "ds-2cd2320d-i.xml").read_bytes()
HIKVISION_401 = (DATA / "responses" / "http" / "hikvision-isapi-deviceinfo-401.txt").read_bytes()
ANSI = "\x1b[2J\x1b]8;;https://example.invalid/\x07click\x1b]8;;\x07\x9b31m"  # clear screen, OSC 8 link, C1 CSI
MIB = 1024 * 1024
DEFAULT_MEMORY_MIB = 512

Generator = Callable[[Path], None]

# Rows that fail until device strings are rendered inert on the terminal (issue 11, the `hostile` area's renderer).
# strict: the row turns red when the fix lands, so this mark is removed then, not forgotten.


@dataclass(frozen=True)
class Case:
    id: str
    argv: list[str]  # "{name}" is replaced by the path of the generated input `name`
    inputs: dict[str, Generator]
    exit_codes: tuple[int, ...]  # documented outcome(s): the verdict codes, or one error code
    memory_mib: int = DEFAULT_MEMORY_MIB
    stderr_has: tuple[str, ...] = ()  # what the one-line message must say (case-insensitive)
    timeout: float = 120
    marks: tuple[object, ...] = field(default_factory=tuple)


# -------------------------------------------------------------------------------------------- generators


def text(content: str) -> Generator:
    return lambda path: path.write_text(content, encoding="utf-8")


def raw(content: bytes) -> Generator:
    return lambda path: path.write_bytes(content)


def observation(host: str, protocol: str, data: str, **extra: object) -> str:
    return json.dumps({"host": host, "protocol": protocol, "data": data, **extra}) + "\n"


def nested_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def long_line_then_valid(path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write('{"host": "192.0.2.1", "protocol": "banner", "data": "' + "A" * (10 * MIB) + '"}\n')
        handle.write(observation("192.0.2.2", "http", HIKVISION_401.decode("latin-1")))


def nmap_xml(hosts: list[tuple[str, list[tuple[str, str]]]]) -> Generator:
    """nmap -oX output: (address, [(portid, service product)])."""

    def write(path: Path) -> None:
        parts = ['<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap -sV">']
        for address, ports in hosts:
            parts.append(f'<host><status state="up"/><address addr="{address}" addrtype="ipv4"/><ports>')
            for portid, product in ports:
                parts.append(
                    f'<port protocol="tcp" portid="{portid}"><state state="open"/>'
                    f'<service name="http" product="{product}"/></port>'
                )
            parts.append("</ports></host>")
        parts.append("</nmaprun>")
        path.write_text("".join(parts), encoding="utf-8")

    return write


def nmap_many_ports(count: int) -> Generator:
    def write(path: Path) -> None:
        with path.open("w", encoding="utf-8") as handle:
            handle.write('<?xml version="1.0"?><nmaprun><host><address addr="192.0.2.9" addrtype="ipv4"/><ports>')
            for index in range(count):
                handle.write(f'<port protocol="tcp" portid="{index % 65536}"><state state="closed"/></port>')
            handle.write("</ports></host></nmaprun>")

    return write


def _frame_udp(src: str, sport: int, dst: str, dport: int, payload: bytes, mac: bytes) -> bytes:
    udp = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
    udp.ulen = len(bytes(udp))
    ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=17, data=udp, ttl=64)
    ip.len = len(bytes(ip))
    return bytes(dpkt.ethernet.Ethernet(src=mac, dst=b"\xff" * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=ip))


def _arp_frame(address: str, mac: bytes) -> bytes:
    arp = dpkt.arp.ARP(sha=mac, spa=socket.inet_aton(address), tha=b"\x00" * 6, tpa=socket.inet_aton("198.18.0.1"))
    return bytes(dpkt.ethernet.Ethernet(src=mac, dst=b"\xff" * 6, type=dpkt.ethernet.ETH_TYPE_ARP, data=arp))


def pcap(frames: list[bytes]) -> bytes:
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for index, frame in enumerate(frames):
        out += struct.pack("<IIII", 1_700_000_000 + index, 0, len(frame), len(frame)) + frame
    return bytes(out)


PLAIN_HOST_MAC = bytes.fromhex("020000000042")  # locally administered: no maker, so nothing covered
CAPTURE_CLEAN = [_arp_frame("198.18.0.42", PLAIN_HOST_MAC)] * 3
CAPTURE_COVERED = [_frame_udp("198.18.0.20", 37020, "239.255.255.250", 37020, SADP, bytes.fromhex("4447cc37ce81"))]


def capture_with_bad_length(path: Path) -> None:
    """A clean capture whose third record claims a length no capture can hold (one corrupted field)."""
    data = bytearray(pcap(CAPTURE_CLEAN + CAPTURE_COVERED))
    third = 24 + 2 * (16 + len(CAPTURE_CLEAN[0]))
    data[third + 8 : third + 12] = struct.pack("<I", 0x7FFF_FFF0)
    path.write_bytes(bytes(data))


def capture_cut_short(path: Path) -> None:
    data = pcap(CAPTURE_CLEAN + CAPTURE_COVERED)
    path.write_bytes(data[:-40])  # the last record (the covered camera) loses its end


def capture_damaged_after_covered(path: Path) -> None:
    data = pcap(CAPTURE_COVERED + CAPTURE_CLEAN)
    path.write_bytes(data[:-10])


def pcapng_bad_block(path: Path) -> None:
    shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
    idb = struct.pack("<IIHHI", 1, 20, 1, 0, 65535) + struct.pack("<I", 20)
    bad = struct.pack("<II", 6, 0x7FFF_FFF0) + b"\0" * 32
    path.write_bytes(shb + idb + bad)


def csv_with_big_field(path: Path) -> None:
    path.write_text("ip,model\n10.0.0.1," + "M" * (100 * 1024) + "\n", encoding="utf-8")


def xlsx(shared_strings: bytes | None, sheet_rows: list[list[str]], extra: dict[str, bytes] | None = None) -> Generator:
    """A minimal XLSX (inline strings), optionally with a shared-strings part and extra parts."""

    def write(path: Path) -> None:
        cells = []
        for r, row in enumerate(sheet_rows, start=1):
            inner = "".join(
                f'<c r="{chr(65 + c)}{r}" t="inlineStr"><is><t>{value}</t></is></c>' for c, value in enumerate(row)
            )
            cells.append(f'<row r="{r}">{inner}</row>')
        sheet = (
            '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main"><sheetData>{"".join(cells)}</sheetData></worksheet>'
        )
        ns = "http://schemas.openxmlformats.org"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(
                "[Content_Types].xml",
                f'<?xml version="1.0"?><Types xmlns="{ns}/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
            )
            archive.writestr(
                "_rels/.rels",
                f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/relationships"><Relationship '
                f'Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                "</Relationships>",
            )
            archive.writestr(
                "xl/workbook.xml",
                f'<?xml version="1.0"?><workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{ns}/'
                'officeDocument/2006/relationships"><sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets>'
                "</workbook>",
            )
            archive.writestr(
                "xl/_rels/workbook.xml.rels",
                f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/relationships"><Relationship '
                f'Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                "</Relationships>",
            )
            archive.writestr("xl/worksheets/sheet1.xml", sheet)
            if shared_strings is not None:
                archive.writestr("xl/sharedStrings.xml", shared_strings)
            for name, content in (extra or {}).items():
                archive.writestr(name, content)

    return write


def many_shared_strings(count: int) -> bytes:
    return (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + b"<si><t>a</t></si>" * count
        + b"</sst>"
    )


def xlsx_with_huge_part(path: Path) -> None:
    """A workbook with one part that inflates to 600 MiB (of zeros: about 600 KiB on disk)."""
    xlsx(None, [["Brand", "Model"], ["Axis", "P3245"]])(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive, archive.open("xl/media/bomb.bin", "w") as out:
        block = b"\0" * MIB
        for _ in range(600):
            out.write(block)


def report_with_bad_digests(path: Path) -> None:
    manifest = {"format": "trueorigin-evidence-manifest/1", "scan_id": "x", "findings": [{"observation_sha256": 7}]}
    path.write_text(json.dumps({"evidence_manifest": manifest, "evidence_manifest_sha256": "0" * 64}))


HIKVISION_HTTP = HIKVISION_401.decode("latin-1")
EXIT_CLEAN_OR_VERDICT = (EXIT_CLEAN, EXIT_COVERED, EXIT_REVIEW)  # completed: whichever verdict the data gives

CASES: list[Case] = [
    # ---------------------------------------------------------------------------------------- identify
    Case(
        "identify-dev-zero",
        ["identify", "/dev/zero"],
        {},
        (EXIT_USAGE,),
        stderr_has=("limit",),
        memory_mib=400,
    ),
    Case(
        "identify-10mib-line-is-skipped",
        ["identify", "{obs}"],
        {"obs.jsonl": long_line_then_valid},
        (EXIT_COVERED,),
        stderr_has=("line 1 skipped",),
    ),
    Case(
        "identify-nested-100k",
        ["identify", "{obs}"],
        {"obs.jsonl": text(nested_json(100_000) + "\n")},
        (EXIT_USAGE,),
        stderr_has=("no valid observation",),
    ),
    Case(
        "identify-nul-and-binary",
        ["identify", "{obs}"],
        {"obs.jsonl": raw(b"\0\xff\xfe" * 1000 + b"\n")},
        (EXIT_USAGE,),
    ),
    Case(
        "identify-port-out-of-range",
        ["identify", "{obs}"],
        {"obs.jsonl": text(observation("192.0.2.1", "http", HIKVISION_HTTP, port=70000))},
        (EXIT_USAGE,),
        stderr_has=("0 to 65535",),
    ),
    # ------------------------------------------------------------------------------------------ import
    Case(
        "import-addr-not-an-ip",
        ["import", "{scan}", "--no-store"],
        {"scan.xml": nmap_xml([("not-an-ip", [("80", "Hikvision IP camera httpd")])])},
        (EXIT_USAGE,),
        stderr_has=("not an ip address",),
    ),
    Case(
        "import-port-above-65535",
        ["import", "{scan}", "--no-store"],
        {"scan.xml": nmap_xml([("192.0.2.7", [("70000", "x"), ("80", "Hikvision IP camera httpd")])])},
        EXIT_CLEAN_OR_VERDICT,
        stderr_has=("outside 0-65535",),
    ),
    Case(
        "import-200k-ports-on-one-host",
        ["import", "{scan}", "--no-store"],
        {"scan.xml": nmap_many_ports(200_000)},
        (EXIT_USAGE,),
        stderr_has=("ports (the limit)",),
    ),
    Case(
        "import-xml-entity-bomb",
        ["import", "{scan}", "--no-store"],
        {
            "scan.xml": text(
                '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                "<nmaprun>&b;</nmaprun>"
            )
        },
        (EXIT_USAGE,),
    ),
    Case(
        "import-xml-unknown-encoding",  # found by the atheris campaign: was an internal error
        ["import", "{scan}", "--no-store"],
        {"scan.xml": text('<?xml version="1.0" encoding="UTF-6"?><nmaprun></nmaprun>')},
        (EXIT_USAGE,),
        stderr_has=("unknown encoding",),
    ),
    Case(
        "import-xml-multibyte-encoding",  # found by the atheris campaign: was an internal error
        ["import", "{scan}", "--no-store"],
        {"scan.xml": text('<?xml version="1.0" encoding="cp932"?><nmaprun></nmaprun>')},
        (EXIT_USAGE,),
    ),
    Case(
        "import-csv-field-over-64kib",
        ["import", "{assets}", "--format", "csv", "--no-store"],
        {"assets.csv": csv_with_big_field},
        (EXIT_USAGE,),
        stderr_has=("64 kib",),
    ),
    Case(
        "import-csv-not-utf8",
        ["import", "{assets}", "--format", "csv", "--no-store"],
        {"assets.csv": raw(b"ip,model\n10.0.0.1,\xff\xfe\n")},
        (EXIT_USAGE,),
        stderr_has=("utf-8",),
    ),
    Case(
        "import-csv-bad-ip-rows-counted",
        ["import", "{assets}", "--format", "csv", "--no-store"],
        {"assets.csv": text("ip,manufacturer\nnot-an-ip,Hikvision\n10.0.0.1,Axis\n999.1.1.1,Dahua\n")},
        EXIT_CLEAN_OR_VERDICT,
        stderr_has=("skipped 2 rows whose ip is not an ip address",),
    ),
    # ----------------------------------------------------------------------------------------- passive
    Case(
        "passive-corrupted-record-length",
        ["passive", "{cap}", "--no-store"],
        {"cap.pcap": capture_with_bad_length},
        (EXIT_DAMAGED,),
        stderr_has=("damaged capture", "stopped at byte"),
    ),
    Case(
        "passive-cut-short",
        ["passive", "{cap}", "--no-store"],
        {"cap.pcap": capture_cut_short},
        (EXIT_DAMAGED,),
        stderr_has=("cut short",),
    ),
    Case(
        "passive-covered-before-damage",
        ["passive", "{cap}", "--no-store"],
        {"cap.pcap": capture_damaged_after_covered},
        (EXIT_COVERED,),
        stderr_has=("damaged capture",),
    ),
    Case(
        "passive-pcapng-huge-block",
        ["passive", "{cap}", "--no-store"],
        {"cap.pcapng": pcapng_bad_block},
        (EXIT_DAMAGED, EXIT_USAGE),
    ),
    Case(
        "passive-not-a-capture",
        ["passive", "{cap}", "--no-store"],
        {"cap.pcap": raw(b"GIF89a" + b"\0" * 100)},
        (EXIT_USAGE,),
    ),
    # ------------------------------------------------------------------------------------------ screen
    Case(
        "screen-encoding-nosuchcodec",
        ["screen", "{inv}", "--encoding", "nosuchcodec"],
        {"inv.csv": text("Brand,Model\nAxis,P3245\n")},
        (EXIT_USAGE,),
        stderr_has=("nosuchcodec",),
    ),
    Case(
        "screen-csv-bare-cr-in-header",  # found by the atheris campaign: was an internal error
        ["screen", "{inv}"],
        {"inv.csv": raw(b"Asset,manufacturer,\rodo0 IUF,budo0crip,")},
        EXIT_CLEAN_OR_VERDICT,
    ),
    Case(
        "screen-json-nested-100k",
        ["screen", "{inv}"],
        {"inv.json": text(nested_json(100_000))},
        (EXIT_USAGE,),
        stderr_has=("nested too deeply",),
    ),
    Case(
        "screen-jsonl-nested-line-is-a-bad-row",
        ["screen", "{inv}", "--json"],
        {"inv.jsonl": text('{"brand": "Axis", "model": "P3245"}\n{"a": ' + nested_json(100_000) + "}\n")},
        EXIT_CLEAN_OR_VERDICT,
    ),
    Case(
        "screen-xlsx-2m-shared-strings",
        ["screen", "{inv}"],
        {"inv.xlsx": xlsx(many_shared_strings(2_100_000), [["Brand", "Model"], ["Axis", "P3245"]])},
        (EXIT_USAGE,),
        stderr_has=("shared strings",),
    ),
    Case(
        "screen-xlsx-part-inflating-to-600mib",
        ["screen", "{inv}"],
        {"inv.xlsx": xlsx_with_huge_part},
        (EXIT_USAGE,),
        stderr_has=("limit",),
        timeout=240,
    ),
    Case(
        "screen-control-char-header-to-xlsx",
        ["screen", "{inv}", "--out", "{out}"],
        {"inv.csv": text("Br\x01and,Model\x1b[2J\nHikvision,DS-2CD2143G0-I\n"), "out.xlsx": lambda path: None},
        EXIT_CLEAN_OR_VERDICT,
    ),
    # ------------------------------------------------------------------------------------- report verify
    Case(
        "report-verify-dev-zero",
        ["report", "verify", "/dev/zero", "--db", "{db}"],
        {"db.sqlite": lambda path: None},
        (EXIT_USAGE,),
        stderr_has=("limit",),
    ),
    Case(
        "report-verify-nested-100k",
        ["report", "verify", "{report}", "--db", "{db}"],
        {"report.json": text(nested_json(100_000)), "db.sqlite": lambda path: None},
        (EXIT_USAGE,),
        stderr_has=("nested too deeply",),
    ),
    Case(
        "report-verify-digests-not-a-list",
        ["report", "verify", "{report}", "--db", "{db}"],
        {"report.json": report_with_bad_digests, "db.sqlite": lambda path: None},
        (EXIT_USAGE,),
    ),
    # ----------------------------------------------------------------------------------------- kb
    Case("kb-explain-ansi", ["kb", "explain", ANSI], {}, (EXIT_REVIEW,)),
    Case("kb-explain-rich-markup", ["kb", "explain", "[/link]"], {}, (EXIT_REVIEW,)),
    Case(
        "identify-ansi-in-device-strings",
        ["identify", "{obs}"],
        {"obs.jsonl": text(observation("192.0.2.5", "banner", f"SSH-2.0-{ANSI}[link=https://x.invalid]x[/link]"))},
        EXIT_CLEAN_OR_VERDICT,
    ),
]
