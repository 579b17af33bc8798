"""The free-text maker signal: knowledge-base names in self-description fields, with guards (issue 13)."""

from __future__ import annotations

import pytest

from trueorigin.fingerprints.selftest import GenericSample, load_generic_corpus
from trueorigin.identify import identify_host
from trueorigin.identify_names import FIELD_CERTAINTY, find_names, maker_claims
from trueorigin.knowledge import load
from trueorigin.model import Observation

LIBRENMS = "librenms/librenms tests/snmpsim"


@pytest.mark.parametrize(
    ("text", "maker"),
    [
        # LibreNMS tests/snmpsim/hikvision-nvr.snmprec @e6fd4384
        pytest.param("Hikvision company products", "hikvision", id="hikvision-nvr-sysdescr"),
        # LibreNMS tests/snmpsim/zxr10.snmprec @b61e8fa0
        pytest.param("ZTE Ethernet Switch  ZXR10 5250-52TM-H, Version: V2.05.11B23", "zte", id="zxr10-sysdescr"),
        # LibreNMS tests/snmpsim/vrp.snmprec @15f945c0
        pytest.param(
            "Huawei AR1220 Huawei Versatile Routing Platform Software  VRP (R) software,Version 5.120 "
            "(AR1220 V200R003C01SPC900) Copyright (C) 2011-2013 Huawei Technologies Co., Ltd",
            "huawei",
            id="vrp-sysdescr",
        ),
        # recog xml/sip_user_agents.xml @14fa1a72
        pytest.param("HUAWEI-EchoLife HG8121H/V3R018C00S110", "huawei", id="echolife-sip-ua"),
        # Huawei's Android DHCP client: vendor class "HUAWEI:android:<board>"
        pytest.param("HUAWEI:android:ELE", "huawei", id="dhcp-vendor-class"),
        pytest.param("HuaweiHomeGateway", "huawei", id="camel-case"),
        pytest.param("海康威视 DS-7608NI", "hikvision", id="chinese-name"),
        pytest.param("HIKVISION DS-2CD2142FWD-I", "hikvision", id="mdns-instance"),
    ],
)
def test_maker_named(text: str, maker: str) -> None:
    claims = maker_claims(load(), "snmp.sysdescr", text)
    assert [c.id for c in claims if c.kind == "entity"] == [maker]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("ONVIF camera, compatible with Hikvision NVR", id="compatible-with"),
        pytest.param("Bracket for Dahua NVR and domes", id="for"),
        pytest.param("Hikvision-style web interface", id="style"),
        pytest.param("Hikvision compatible", id="compatible-after"),
        pytest.param("Acme NVR, Dahua protocol", id="protocol"),
        pytest.param("Hikvision Authorized Dealer", id="dealer"),
        pytest.param("Dahua partner network", id="partner"),
        pytest.param("ACME Security Store - Hikvision store", id="store"),
        pytest.param("Supports Hikvision and Dahua cameras", id="supports-list"),
        pytest.param("兼容海康威视", id="chinese-compat"),
        pytest.param("Shanghai Dahua Scale Factory", id="distinct-name"),
        pytest.param("ZTEsoft billing", id="inside-a-word"),
        pytest.param("PARADYNE BitStorm 2600; S/W Release: 02.05.07;", id="camel-tail"),  # recog snmp_sysdescr
        pytest.param("zte router", id="short-name-lower-case"),
        pytest.param("DH-IPC", id="two-letter-alias"),
        pytest.param("honor and glory", id="ordinary-word"),
        pytest.param("RealVNC Ltd.", id="legal-form-only"),
    ],
)
def test_guarded_or_not_a_name(text: str) -> None:
    kb = load()
    claims = maker_claims(kb, "snmp.sysdescr", text)
    assert not [c for c in claims if kb.coverage(c.id if c.kind == "entity" else "none")[0] != "no"]


def test_guarded_mentions_are_reported_with_their_cue() -> None:
    mentions = find_names(load(), "compatible with Hikvision")
    assert [(m.id, m.cue) for m in mentions] == [("hikvision", "compatible with")]


def test_only_self_description_fields() -> None:
    kb = load()
    assert maker_claims(kb, "http.body", "Hikvision") == []
    assert "snmp.sysdescr" in FIELD_CERTAINTY and "dhcp.hostname" in FIELD_CERTAINTY
    assert FIELD_CERTAINTY["snmp.sysdescr"] > FIELD_CERTAINTY["dhcp.hostname"]


def test_hostile_long_text_is_bounded() -> None:
    text = "Hikvision " * 100_000
    assert len(find_names(load(), text)) == 1


def _obs(protocol: str, data: str, port: int | None = None) -> Observation:
    return Observation(host="198.18.0.30", protocol=protocol, data=data.encode(), port=port)


def test_hikvision_nvr_by_sysdescr_alone() -> None:
    """LibreNMS hikvision-nvr.snmprec: the sysObjectID (…50001, Scildon in IANA's registry) is not
    Hikvision's; only the sysDescr names the maker."""
    ident = identify_host(
        "198.18.0.30",
        [_obs("snmp-sysdescr", "Hikvision company products"), _obs("snmp-sysobjectid", "1.3.6.1.4.1.50001")],
    )
    assert ident.vendor == "Hikvision"
    assert ident.covered == "yes"
    assert any(e.rule == "name:snmp.sysdescr:hikvision" for e in ident.evidence)


def test_zte_switch_by_sysdescr_alone() -> None:
    ident = identify_host(
        "198.18.0.30", [_obs("snmp-sysdescr", "ZTE Ethernet Switch  ZXR10 5250-52TM-H, Version: V2.05.11B23")]
    )
    assert (ident.vendor, ident.covered) == ("ZTE", "yes")


def _dhcp_request(hostname: str) -> bytes:
    """A BOOTREQUEST with option 12 (host name) only (RFC 2131/2132)."""
    header = bytes([1, 1, 6, 0]) + b"\x00" * 24 + bytes.fromhex("020000000001") + b"\x00" * 10 + b"\x00" * 192
    name = hostname.encode()
    return header + bytes.fromhex("63825363") + bytes([53, 1, 3, 12, len(name)]) + name + b"\xff"


def test_a_host_name_alone_is_review() -> None:
    """A DHCP host name can be set by anyone: alone it names the maker for review, not a verdict.
    (Host name as a Huawei phone sends it: thepythoncode DHCP listener article, HUAWEI_P30-….)"""
    data = _dhcp_request("HUAWEI_P30-9e8b07efe8a355")
    ident = identify_host("198.18.0.30", [Observation(host="198.18.0.30", protocol="dhcp-vendor-class", data=data)])
    assert ident.vendor == "Huawei"
    assert ident.covered == "review"


def test_compatible_mention_does_not_identify() -> None:
    text = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<title>NVR compatible with Hikvision cameras</title>"
    ident = identify_host("198.18.0.30", [_obs("http", text, 80)])
    assert ident.covered == "no"
    assert ident.vendor is None


def test_brand_in_free_text_goes_through_its_oem_link() -> None:
    text = "HTTP/1.1 200 OK\r\nServer: Amcrest\r\nContent-Length: 0\r\n\r\n"
    ident = identify_host("198.18.0.30", [_obs("http", text, 80)])
    assert ident.vendor == "Dahua"
    assert any((e.rule or "").startswith("name:http.header.server:") for e in ident.evidence)


def _generic_id(sample: GenericSample) -> str:
    return f"{sample.field}={sample.value[:40]}"


@pytest.mark.parametrize(
    "sample", [pytest.param(s, id=_generic_id(s)) for s in load_generic_corpus() if s.field in FIELD_CERTAINTY]
)
def test_generic_corpus_names_no_maker_but_its_own(sample: GenericSample) -> None:
    """Generic software and non-covered gear (Cisco, Juniper, MikroTik, Ubiquiti, TP-Link, Axis, Hanwha, Bosch,
    HP/Aruba, Fortinet, Nokia/Alcatel-Lucent ...): the free-text signal names the gear's own maker or nobody."""
    kb = load()
    named: set[str] = set()
    for mention in maker_claims(kb, sample.field, sample.value):
        named |= {mention.id} if mention.kind == "entity" else {link.maker for link in kb.oem_links(mention.id)}
    assert named <= ({sample.maker} if sample.maker else set()), sample.source
