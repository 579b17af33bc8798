"""Identification: real device answers (tests/data/responses, each with its source) -> true origin + evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trueorigin import probes
from trueorigin.cli import app
from trueorigin.identify import identify_all, identify_host
from trueorigin.model import Observation

RESPONSES = Path(__file__).parent / "data" / "responses"
CONTRACT_PROTOCOLS = (
    "http",
    "rtsp",
    "tls-cert",
    "sadp",
    "dhip",
    "ws-discovery",
    "onvif-device-info",
    "ssdp",
    "mdns",
    "snmp-sysdescr",
    "snmp-sysobjectid",
    "dhcp-vendor-class",
    "mac",
    "banner",
)


def _obs(protocol: str, fixture: str, port: int | None = None, request: str | None = None) -> Observation:
    return Observation(
        host="198.18.0.20", protocol=protocol, data=(RESPONSES / fixture).read_bytes(), port=port, request=request
    )


def test_every_contract_protocol_has_a_parser() -> None:
    missing = [p for p in CONTRACT_PROTOCOLS if p not in probes.parsers()]
    assert not missing


def test_hikvision_camera_from_sadp_and_isapi_realm() -> None:
    ident = identify_host(
        "198.18.0.20",
        [
            _obs("sadp", "sadp/ds-2cd2320d-i.xml", 37020),
            _obs("http", "http/hikvision-isapi-deviceinfo-401.txt", 80, "GET /ISAPI/System/deviceInfo"),
        ],
    )
    assert ident.vendor == "Hikvision"
    assert ident.covered == "yes"
    assert "ndaa-889" in ident.regimes
    assert ident.model == "DS-2CD2320D-I"
    assert ident.kind == "camera"
    assert ident.mac == "44:47:cc:37:ce:81"
    rules = {step.rule for step in ident.evidence if step.rule}
    assert any(rule and rule.startswith("oui:44:47:CC") for rule in rules)
    protocols = {step.protocol for step in ident.evidence if step.protocol}
    assert {"sadp", "http"} <= protocols
    # every observation-backed step names the exact bytes it rests on
    assert all(step.observation_sha256 for step in ident.evidence if step.protocol)
    assert 0.9 < ident.confidence <= 1.0


def test_relabeled_device_keeps_maker_and_reports_the_brand_conflict() -> None:
    """A device calling itself 'Acme' in ONVIF but answering SADP is a relabeled Hikvision."""
    onvif = (RESPONSES / "onvif-device-info" / "dahua-ipc-hdw1025c.xml").read_text()
    manufacturer = onvif.split("Manufacturer>")[1].split("<")[0]
    relabeled = onvif.replace(f"Manufacturer>{manufacturer}<", "Manufacturer>Acme<")
    ident = identify_host(
        "198.18.0.20",
        [
            _obs("sadp", "sadp/ds-2cd2320d-i.xml", 37020),
            Observation(host="198.18.0.20", protocol="onvif-device-info", data=relabeled.encode(), port=80),
        ],
    )
    assert ident.brand == "Acme"
    assert ident.vendor == "Hikvision"
    assert ident.covered == "yes"
    assert any("Acme" in c and "Hikvision" in c for c in ident.conflicts)


def test_dahua_oem_answer_is_attributed_to_dahua() -> None:
    ident = identify_host("198.18.0.30", [_obs("dhip", "dhip/lorex-w461asc.bin", 37810)])
    assert ident.vendor == "Dahua"
    assert ident.covered in ("yes", "review")


def test_nothing_known_gives_no_vendor_and_not_covered() -> None:
    ident = identify_host(
        "198.18.0.40",
        [Observation(host="198.18.0.40", protocol="http", data=b"HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n", port=80)],
    )
    assert ident.vendor is None
    assert ident.covered == "no"
    assert ident.confidence == 0.0


def test_unparseable_observation_does_not_stop_identification() -> None:
    idents = identify_all(
        [
            Observation(host="h1", protocol="sadp", data=b"\x00\xff not xml", port=37020),
            _obs("sadp", "sadp/ds-2cd2320d-i.xml", 37020),
        ]
    )
    assert [i.host for i in idents] == ["h1", "198.18.0.20"]
    assert idents[0].vendor is None


@pytest.fixture
def observation_file(tmp_path: Path) -> Path:
    lines = [
        json.dumps(_obs("sadp", "sadp/ds-2cd2320d-i.xml", 37020).to_json()),
        "{not json",
        json.dumps({"host": "198.18.0.21", "protocol": "http"}),  # no data
        json.dumps(_obs("dhip", "dhip/lorex-w461asc.bin", 37810).to_json() | {"host": "198.18.0.30"}),
    ]
    path = tmp_path / "observations.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_identify_cli_reports_bad_lines_and_identifies_the_rest(observation_file: Path) -> None:
    result = CliRunner().invoke(app, ["identify", str(observation_file), "--json"])
    assert result.exit_code == 1  # covered equipment found
    assert "line 2 skipped" in result.stderr
    assert "line 3 skipped" in result.stderr and "'data'" in result.stderr
    hosts = [json.loads(line) for line in result.stdout.splitlines()]
    assert [h["host"] for h in hosts] == ["198.18.0.20", "198.18.0.30"]
    keys = {
        "host",
        "vendor",
        "brand",
        "covered",
        "regimes",
        "model",
        "firmware",
        "kind",
        "cves",
        "confidence",
        "evidence",
    }
    assert all(keys <= set(h) for h in hosts)


def test_identify_cli_binary_data_round_trips_as_base64(observation_file: Path, tmp_path: Path) -> None:
    line = json.loads(observation_file.read_text().splitlines()[3])
    assert line["encoding"] == "base64"
    binary = tmp_path / "binary.jsonl"
    binary.write_text(json.dumps(line) + "\n")
    result = CliRunner().invoke(app, ["identify", str(binary), "--json"])
    assert result.exit_code == 1, result.output  # the Lorex/Dahua answer is read back and identified as covered
    (host,) = [json.loads(out) for out in result.stdout.splitlines()]
    original = _obs("dhip", "dhip/lorex-w461asc.bin", 37810).sha256
    assert original in {step.get("observation_sha256") for step in host["evidence"]}  # same bytes, decoded


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("", "no valid observation lines", id="empty"),
        pytest.param("[1, 2]\n", "no valid observation lines", id="not-objects"),
    ],
)
def test_identify_cli_bad_input(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(content)
    result = CliRunner().invoke(app, ["identify", str(path)])
    assert result.exit_code == 2
    assert message in result.output


def test_identify_cli_missing_file() -> None:
    result = CliRunner().invoke(app, ["identify", "/nonexistent/observations.jsonl"])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_subsidiary_named_by_brand_and_model_beats_its_parents_firmware_lineage() -> None:
    """Imou cameras (Hangzhou Huacheng, a Dahua subsidiary until the 2025 sale) run Dahua firmware."""
    onvif = (RESPONSES / "onvif-device-info" / "dahua-ipc-hdw1025c.xml").read_text()
    manufacturer = onvif.split("Manufacturer>")[1].split("<")[0]
    model = onvif.split("Model>")[1].split("<")[0]
    imou = onvif.replace(f"Manufacturer>{manufacturer}<", "Manufacturer>Imou<").replace(
        f"Model>{model}<", "Model>IPC-A26Z<"
    )
    ident = identify_host(
        "198.18.0.31",
        [
            _obs("dhip", "dhip/ipc-hdw5421s.bin", 37810),
            Observation(host="198.18.0.31", protocol="onvif-device-info", data=imou.encode(), port=80),
        ],
    )
    assert ident.vendor == "Imou"
    assert ident.brand == "Imou"
    # The link to Dahua ended with the divestiture ("review" on ownership alone), but the device answers Dahua's
    # own discovery protocol: the firmware lineage is strong, so the verdict is "yes" (docs/relabels.md).
    assert ident.covered == "yes"
    assert any(c.startswith("covered by firmware lineage: dahua.") for c in ident.conflicts)
    assert "ndaa-889" in ident.regimes
    assert any(step.rule and step.rule.startswith("dahua.") for step in ident.evidence)  # lineage kept as evidence


def test_divested_subsidiary_on_brand_and_model_only_stays_review() -> None:
    """The same Imou camera seen only through ONVIF (brand and model, no firmware lineage) stays "review"."""
    onvif = (RESPONSES / "onvif-device-info" / "dahua-ipc-hdw1025c.xml").read_text()
    manufacturer = onvif.split("Manufacturer>")[1].split("<")[0]
    model = onvif.split("Model>")[1].split("<")[0]
    imou = onvif.replace(f"Manufacturer>{manufacturer}<", "Manufacturer>Imou<").replace(
        f"Model>{model}<", "Model>IPC-A26Z<"
    )
    ident = identify_host(
        "198.18.0.32", [Observation(host="198.18.0.32", protocol="onvif-device-info", data=imou.encode(), port=80)]
    )
    assert ident.covered == "review"
    assert not any(c.startswith("covered by firmware lineage") for c in ident.conflicts)


def test_a_name_alone_never_counts_as_lineage() -> None:
    """A DHCP host name naming Huawei is brand-only evidence: "review", never upgraded."""
    header = bytes([1, 1, 6, 0]) + b"\x00" * 24 + bytes.fromhex("020000000001") + b"\x00" * 202
    name = b"HUAWEI_P30-9e8b07efe8a355"
    data = header + bytes.fromhex("63825363") + bytes([53, 1, 3, 12, len(name)]) + name + b"\xff"
    ident = identify_host("198.18.0.33", [Observation(host="198.18.0.33", protocol="dhcp-vendor-class", data=data)])
    assert ident.covered == "review"
