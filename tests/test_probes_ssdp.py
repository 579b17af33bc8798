"""SSDP / UPnP: parser on real answers and descriptions, fuzzing, and the unicast probe with its description
fetch against real UDP and TCP sockets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_probes_onvif import serve_http
from test_probes_sadp import fresh_loopback_address, quick_context, serve_udp
from trueorigin.model import Observation, Status, Target
from trueorigin.probes import ssdp

DATA = Path(__file__).parent / "data" / "responses" / "ssdp"
DESCRIPTION = (DATA / "dlink-dsl-x1852e-description.xml").read_bytes()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "pms-msearch-answer.txt",
            {
                "ssdp.status": "200",
                "ssdp.header.server": "Windows_7-amd64-6.1, UPnP/1.0, PMS/1.80.0-SNAPSHOT",
                "ssdp.header.location": "http://192.168.2.6:5001/description/fetch",
                "ssdp.header.st": "urn:schemas-upnp-org:device:MediaServer:1",
                "ssdp.header.usn": (
                    "uuid:1dcf238e-3a20-4035-a3b1-7f23dd19b944::urn:schemas-upnp-org:device:MediaServer:1"
                ),
                "ssdp.header.ext": "",
            },
            id="msearch-answer-crlf",
        ),
        pytest.param(
            "universalscanner-notify.txt",
            {
                "ssdp.method": "NOTIFY",
                "ssdp.header.location": "http://240.0.1.0/rootDesc.xml",
                "ssdp.header.server": "Universal Scanner/0.0, Virtual/1.0",
                "ssdp.header.nts": "ssdp:alive",
            },
            id="notify-lf-no-space",
        ),
        pytest.param(
            "dlink-dsl-x1852e-description.xml",
            {
                "upnp.manufacturer": "D-link",
                "upnp.manufacturer_url": "http://www.dlink.com",
                "upnp.model_name": "DSL-X1852E",
                "upnp.model_number": "MDSL-X1852E",
                "upnp.model_description": "DSL-X1852E",
                "upnp.friendly_name": "DSL-X1852E",
                "upnp.serial": "00000001",
                "upnp.device_type": "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
                "device.manufacturer": "D-link",
                "device.model": "DSL-X1852E",
                "device.kind": "router",
            },
            id="upnp-description",
        ),
    ],
)
def test_parse_fixture(name: str, expected: dict[str, str]) -> None:
    parsed = ssdp.parse_ssdp((DATA / name).read_bytes(), None)
    assert parsed.ok, parsed.error
    for key, value in expected.items():
        assert parsed.fields[key] == value, key


def test_description_inside_an_http_response_and_repeated_headers() -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n" + DESCRIPTION
    assert ssdp.parse_ssdp(response, "GET /rootDesc.xml").fields["upnp.manufacturer"] == "D-link"
    parsed = ssdp.parse_ssdp(b"HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\n\r\n", None)
    assert parsed.fields["ssdp.header.x-a"] == "1\n2"


def test_embedded_devices_do_not_override_the_root_device() -> None:
    xml = (
        b'<root xmlns="urn:schemas-upnp-org:device-1-0"><device><manufacturer>Acme</manufacturer>'
        b"<deviceList><device><manufacturer>Other</manufacturer></device></deviceList></device></root>"
    )
    assert ssdp.parse_ssdp(xml, None).fields["upnp.manufacturer"] == "Acme"


def test_every_fixture_has_a_source() -> None:
    for fixture in DATA.iterdir():
        if not fixture.name.endswith(".source.yaml"):
            assert fixture.with_name(fixture.stem + ".source.yaml").exists(), fixture.name


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(ssdp.probe_payload(), id="our-own-search"),
        pytest.param(b"HTTP/1.1 OK\r\n\r\n", id="bad-status"),
        pytest.param(b"HTTP/1.1 200 OK\r\n\r\n", id="no-headers"),
        pytest.param(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "x">]><root>&a;</root>', id="dtd"),
        pytest.param(b"<html><body>router</body></html>", id="not-upnp-xml"),
        pytest.param(b"<root><specVersion/></root>", id="no-device"),
    ],
)
def test_parse_refuses(data: bytes) -> None:
    parsed = ssdp.parse_ssdp(data, None)
    assert not parsed.ok and parsed.fields == {}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_parser_survives_any_bytes(data: bytes) -> None:
    parsed = ssdp.parse_ssdp(data, None)
    assert parsed.ok or parsed.fields == {}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.from_regex(r"[A-Za-z-]{1,20}", fullmatch=True), st.text(max_size=2000)), max_size=200))
def test_header_output_is_bounded(headers: list[tuple[str, str]]) -> None:
    lines = "".join(f"{name}: {value.replace(chr(10), ' ').replace(chr(13), ' ')}\r\n" for name, value in headers)
    parsed = ssdp.parse_ssdp(f"HTTP/1.1 200 OK\r\n{lines}\r\n".encode(), None)
    assert len(parsed.fields) <= ssdp.MAX_HEADERS + 1


def test_payloads() -> None:
    multicast = ssdp.probe_payload()
    assert multicast.startswith(b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n")
    assert b'MAN: "ssdp:discover"' in multicast and b"MX: 1" in multicast and multicast.endswith(b"\r\n\r\n")
    unicast = ssdp.probe_payload(host="127.0.0.9:1900")
    assert b"HOST: 127.0.0.9:1900" in unicast and b"MX:" not in unicast


async def run_probe(location_host: str | None, answer_template: bytes) -> tuple[list[Observation], list[bytes]]:
    address = fresh_loopback_address()

    async def handler(request_line: str, headers: dict[str, str], body: bytes) -> bytes:
        if request_line.startswith("GET /rootDesc.xml "):
            return b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n" + DESCRIPTION
        return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"

    server, port, requests = await serve_http(address, handler)
    answer = answer_template.replace(b"{location}", f"http://{location_host or address}:{port}/rootDesc.xml".encode())
    transport, _ = await serve_udp(
        address,
        ssdp.SSDP_PORT,
        lambda request: answer if request.startswith(b"M-SEARCH") else None,
        impostor_address=fresh_loopback_address(),
    )
    try:
        observations = await ssdp.probe(Target(address), quick_context())
    finally:
        transport.close()
        server.close()
        await server.wait_closed()
    return observations, requests


ANSWER = (
    b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\nLOCATION: {location}\r\n"
    b"SERVER: Linux/3.0.8, UPnP/1.0, Portable SDK for UPnP devices/1.6.18\r\nST: upnp:rootdevice\r\n"
    b"USN: uuid:00000000-0000-0000-0000-000000000000::upnp:rootdevice\r\n\r\n"
)


def test_probe_fetches_the_description_on_the_same_target() -> None:
    observations, requests = asyncio.run(run_probe(None, ANSWER))
    assert [(o.transport, o.protocol) for o in observations] == [("udp", "ssdp"), ("tcp", "ssdp")]
    answer, description = observations
    assert answer.port == 1900 and answer.status == Status.OK and not answer.data.startswith(b"IMPOSTOR")
    assert description.data == DESCRIPTION and description.request == "GET /rootDesc.xml"
    assert len(requests) == 1


def test_probe_never_fetches_a_location_on_another_host() -> None:
    observations, requests = asyncio.run(run_probe("127.0.0.1", ANSWER))
    assert [o.transport for o in observations] == ["udp"]
    assert requests == []


def test_probe_of_a_silent_target_and_a_malformed_answer() -> None:
    async def scenario(reply: bytes | None) -> list[Observation]:
        address = fresh_loopback_address()
        transport, _ = await serve_udp(address, ssdp.SSDP_PORT, lambda request: reply)
        try:
            return await ssdp.probe(Target(address), quick_context())
        finally:
            transport.close()

    assert asyncio.run(scenario(None)) == []
    (malformed,) = asyncio.run(scenario(b"\x00\x01garbage"))
    assert malformed.status == Status.PROTOCOL_ERROR


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_http_splitting_helper_survives_any_bytes(tail: bytes) -> None:
    from trueorigin.probes.message import split_http_response

    for raw in (b"HTTP/" + tail, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + tail, tail):
        answer = split_http_response(raw)
        assert answer is None or (answer.raw == raw and len(answer.body) <= len(raw))


@pytest.mark.parametrize(
    ("raw", "body"),
    [
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n2\r\nef\r\n0\r\n\r\n",
            b"abcdef",
            id="chunked",
        ),
        pytest.param(b"HTTP/1.0 200 OK\r\n\r\n<root/>", b"<root/>", id="plain"),
        pytest.param(b"HTTP/1.1 \xb2 OK\r\n\r\n", None, id="non-ascii-digit-status"),
    ],
)
def test_http_splitting_helper(raw: bytes, body: bytes | None) -> None:
    from trueorigin.probes.message import split_http_response

    answer = split_http_response(raw)
    assert (answer.body if answer else None) == body


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(p for p in DATA.iterdir() if not p.name.endswith(".source.yaml"))),
    st.integers(min_value=0, max_value=4096),
    st.binary(max_size=64),
)
def test_parser_survives_mutated_real_answers(path: Path, position: int, noise: bytes) -> None:
    seed = path.read_bytes()
    for data in (seed[:position] + noise + seed[position:], seed[:position]):
        parsed = ssdp.parse_ssdp(data, None)
        assert parsed.ok or parsed.fields == {}
