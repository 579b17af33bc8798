"""HTTP parser on real/reconstructed device answers, and the probe against tiny local servers (127.0.0.1)."""

from __future__ import annotations

import asyncio
import base64
import codecs
import gzip
import hashlib
import json
import socket
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import mmh3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trueorigin.model import Observation, Status, Target
from trueorigin.probes import http, httpauth
from trueorigin.probes.base import Credential, ProbeContext

FIXTURES = Path(__file__).parent / "data" / "responses" / "http"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# ------------------------------------------------------------------------------------------------ parser


@pytest.mark.parametrize(
    ("name", "request_line", "expected"),
    [
        pytest.param(
            "hikvision-isapi-deviceinfo-401.txt",
            "GET /ISAPI/System/deviceInfo",
            {
                "http.status": "401",
                "http.reason": "Unauthorized",
                "http.header.server": "webserver",
                "http.auth.scheme": "Digest",
                "http.realm": "IP Camera(C5654)",
                "http.path": "/ISAPI/System/deviceInfo",
            },
            id="hikvision-isapi-401-realm",
        ),
        pytest.param(
            "hikvision-isapi-deviceinfo-200.txt",
            "GET /ISAPI/System/deviceInfo",
            {
                "http.status": "200",
                "http.xml.root": "DeviceInfo",
                "device.name": "Embedded Net DVR",
                "device.model": "DS-7816H-SNH",
                "device.serial": "DS-7816H-SNH1620140125AACH450813722WCVU",
                "device.mac": "44:19:b6:11:22:33",
                "device.firmware": "V3.4.4",
                "device.kind": "dvr",
                "http.isapi.firmwarereleaseddate": "build 160919",
                "http.isapi.devicetype": "DVR",
            },
            id="hikvision-isapi-deviceinfo",
        ),
        pytest.param(
            "hikvision-webs-302.txt",
            "GET /",
            {
                "http.status": "302",
                "http.header.server": "Hikvision-Webs",
                "http.location": "http://192.168.1.64:80/index.asp",
                "http.header_order": "server,date,pragma,cache-control,content-type,location",
            },
            id="hikvision-webs-redirect",
        ),
        pytest.param(
            "hikvision-dnvrs-webs-200.txt",
            "GET /",
            {"http.header.server": "DNVRS-Webs", "http.title": "Network Video Recorder"},
            id="hikvision-dnvrs-title",
        ),
        pytest.param(
            "dahua-magicbox-getsysteminfo.txt",
            "GET /cgi-bin/magicBox.cgi?action=getSystemInfo",
            {
                "device.model": "IPC-HDW5831R-ZE",
                "device.serial": "4X7C5A1ZAG21L3F",
                "device.hardware": "1.00",
                "http.dahua.updateserial": "IPC-HDW5830R-Z",
                "http.dahua.processor": "S3LM",
            },
            id="dahua-getsysteminfo",
        ),
        pytest.param(
            "dahua-magicbox-getsoftwareversion.txt",
            "GET /cgi-bin/magicBox.cgi?action=getSoftwareVersion",
            {"device.firmware": "2.800.0000016.0.R", "http.dahua.build": "2020-06-05"},
            id="dahua-getsoftwareversion",
        ),
        pytest.param(
            "dahua-magicbox-getvendor.txt",
            "GET /cgi-bin/magicBox.cgi?action=getVendor",
            {"device.manufacturer": "Dahua"},
            id="dahua-getvendor",
        ),
        pytest.param(
            "huawei-hilink-e3372h-device-information.txt",
            "GET /api/device/information",
            {
                "http.xml.root": "response",
                "device.model": "E3372h-320",
                "device.firmware": "11.0.1.1(H697SP1C983)",
                "device.hardware": "CL4E3372HM",
                "device.kind": "router",
            },
            id="huawei-hilink-information",
        ),
        pytest.param(
            "huawei-hilink-b525s-device-information.txt",
            "GET /api/device/information",
            {"device.model": "B525s-65a", "device.mac": "44:59:e3:2c:d7:af", "device.hardware": "WL2B520M"},
            id="huawei-hilink-malformed-declaration",
        ),
    ],
)
def test_parse_fixture(name: str, request_line: str, expected: dict[str, str]) -> None:
    parsed = http.parse_http(fixture(name), request_line)
    assert parsed.ok, parsed.error
    for key, value in expected.items():
        assert parsed.fields.get(key) == value, key


def test_parse_repeated_headers_and_two_challenges() -> None:
    data = (
        b"HTTP/1.1 401 Unauthorized\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
        b'WWW-Authenticate: Digest realm="DVRNVRDVS", domain="::", qop="auth", nonce="abc", opaque="", '
        b'algorithm="MD5", stale="FALSE"\r\nWWW-Authenticate: Basic realm="DVRNVRDVS"\r\nContent-Length: 0\r\n\r\n'
    )
    fields = http.parse_http(data, None).fields
    assert fields["http.header.set-cookie"] == "a=1\nb=2"
    assert fields["http.header_order"] == "set-cookie,set-cookie,www-authenticate,www-authenticate,content-length"
    assert fields["http.auth.scheme"] == "Digest"
    assert fields["http.realm"] == "DVRNVRDVS"
    challenges = httpauth.parse_challenges(['Digest realm="r1", nonce="n", Basic realm="r2"'])
    assert [(c.scheme, c.params.get("realm")) for c in challenges] == [("Digest", "r1"), ("Basic", "r2")]


def test_parse_chunked_body_is_decoded() -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"7\r\n<title>\r\n4;ext=1\r\nNVR \r\n8\r\n</title>\r\n0\r\n\r\n"
    )
    fields = http.parse_http(data, "GET /").fields
    assert fields["http.body"] == "<title>NVR </title>"
    assert fields["http.title"] == "NVR"


def test_parse_small_gzip_body_is_inflated_and_large_output_capped() -> None:
    body = gzip.compress(b"<html><title>Web Service</title></html>")
    data = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    assert http.parse_http(data, None).fields["http.title"] == "Web Service"
    bomb = gzip.compress(b"A" * (20 * 1024 * 1024))  # 20 MiB of "A" in ~20 KiB
    fields = http.parse_http(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + bomb, None).fields
    assert len(fields["http.body"]) == http.BODY_TEXT_LIMIT


def test_favicon_hashes_follow_shodan_and_nmap_conventions() -> None:
    icon = bytes(range(256)) * 5  # binary, longer than one 76-character base64 line
    data = b"HTTP/1.1 200 OK\r\nContent-Type: image/x-icon\r\nContent-Length: %d\r\n\r\n" % len(icon) + icon
    fields = http.parse_http(data, "GET /favicon.ico").fields
    assert fields["http.favicon.md5"] == hashlib.md5(icon).hexdigest()
    # Shodan: mmh3.hash(codecs.encode(content, "base64")), computed here the way their docs show it
    assert fields["http.favicon.mmh3"] == str(mmh3.hash(codecs.encode(icon, "base64")))
    assert "http.favicon.md5" not in http.parse_http(data, "GET /").fields


def test_rpc2_json_answer_fills_device_fields() -> None:
    body = json.dumps({"id": 3, "params": {"type": "IPC-HFW1230S"}, "result": True, "session": 1}).encode()
    data = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + body
    fields = http.parse_http(data, "POST /RPC2").fields
    assert fields["device.model"] == "IPC-HFW1230S"
    assert fields["http.rpc2.type"] == "IPC-HFW1230S"


def test_html_page_with_equals_signs_is_not_taken_for_magicbox() -> None:
    data = b"HTTP/1.1 200 OK\r\n\r\n<html><body>deviceType=nope</body></html>\r\n"
    assert not any(key.startswith(("device.", "http.dahua.")) for key in http.parse_http(data, "GET /").fields)


def test_xml_entity_expansion_is_refused_without_crash() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<DeviceInfo><model>&b;</model></DeviceInfo>"
    )
    parsed = http.parse_http(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n\r\n" + bomb, None)
    assert parsed.ok
    assert "device.model" not in parsed.fields


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"SSH-2.0-OpenSSH_8.9\r\n", id="ssh-banner"),
        pytest.param(b"RTSP/1.0 200 OK\r\n\r\n", id="rtsp"),
        pytest.param(b"HTTP/1.1 OK\r\n\r\n", id="no-status-code"),
    ],
)
def test_not_http_is_unparseable(data: bytes) -> None:
    parsed = http.parse_http(data, None)
    assert not parsed.ok
    assert parsed.fields == {}


def test_digest_authorization_matches_rfc7616_examples() -> None:
    challenge = httpauth.Challenge(
        "Digest",
        {
            "realm": "http-auth@example.org",
            "qop": "auth, auth-int",
            "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            "opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
        },
    )
    credential = Credential("Mufasa", "Circle of Life")
    cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
    md5_header = httpauth.digest_authorization(challenge, "GET", "/dir/index.html", credential, cnonce)
    sha_challenge = httpauth.Challenge("Digest", {**challenge.params, "algorithm": "SHA-256"})
    sha_header = httpauth.digest_authorization(sha_challenge, "GET", "/dir/index.html", credential, cnonce)
    # RFC 7616 §3.9.1 response values
    assert md5_header is not None and 'response="8ca523f5e9506fed4657c9700eebdbec"' in md5_header
    assert sha_header is not None
    assert 'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"' in sha_header


FIXTURE_BYTES = [fixture(p.name) for p in sorted(FIXTURES.glob("*.txt"))]


def _with_junk_inserted(data: bytes) -> st.SearchStrategy[bytes]:
    return st.builds(
        lambda cut, junk: data[:cut] + junk + data[cut:], st.integers(0, len(data)), st.binary(max_size=64)
    )


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=4096), st.sampled_from(FIXTURE_BYTES).flatmap(_with_junk_inserted)))
def test_parser_never_raises_and_output_is_bounded(data: bytes) -> None:
    parsed = http.parse_http(data, "GET /favicon.ico")
    assert parsed.ok or parsed.fields == {}
    for key, value in parsed.fields.items():
        assert isinstance(key, str) and isinstance(value, str)
        assert len(value) <= max(http.BODY_TEXT_LIMIT, http.MAX_HEADERS * (http.MAX_HEADER_VALUE + 1))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_parser_never_raises_on_http_shaped_text(body: str) -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n" + body.encode()
    http.parse_http(data, "GET /cgi-bin/magicBox.cgi?action=getSystemInfo")


# ------------------------------------------------------------------------------------------------ probe

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class LocalServer:
    """An asyncio TCP server on 127.0.0.1:<random> that records the requests it receives."""

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.ssl_context = ssl_context
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> LocalServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self.handler(reader, writer)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


def _digest_ok(request: bytes, password: str) -> bool:
    """Server-side RFC 7616 check, written independently of the code under test."""
    head = request.decode("latin-1")
    line = next((h for h in head.split("\r\n") if h.lower().startswith("authorization: digest ")), None)
    if line is None:
        return False
    params = dict(
        (k.strip(), v.strip().strip('"'))
        for k, v in (p.split("=", 1) for p in line[len("authorization: digest ") :].split(", "))
    )
    ha1 = hashlib.md5(f"{params['username']}:{params['realm']}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"GET:{params['uri']}".encode()).hexdigest()
    expected = hashlib.md5(
        f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:{params['qop']}:{ha2}".encode()
    ).hexdigest()
    return params["response"] == expected


def hikvision_handler(server: LocalServer, password: str = "Secret-Pass-42") -> Handler:
    """Answers like the Hikvision fixtures: 302 on /, 404 elsewhere, 401 Digest on ISAPI until logged in."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        server.requests.append(request)
        path = request.split(b" ", 2)[1].decode()
        if path == "/":
            writer.write(fixture("hikvision-webs-302.txt"))
        elif path == "/ISAPI/System/deviceInfo":
            ok = _digest_ok(request, password)
            writer.write(fixture("hikvision-isapi-deviceinfo-200.txt" if ok else "hikvision-isapi-deviceinfo-401.txt"))
        else:
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()

    return handle


def test_probe_unauthenticated_records_401_realm_and_never_sends_authorization() -> None:
    async def scenario() -> tuple[list[Observation], list[bytes]]:
        server = LocalServer(lambda r, w: asyncio.sleep(0))
        server.handler = hikvision_handler(server)
        async with server:
            observations = await http.probe(Target("127.0.0.1", server.port), ProbeContext(timeout=2.0))
        return list(observations), server.requests

    observations, requests = asyncio.run(scenario())
    by_request = {o.request: o for o in observations}
    assert set(by_request) == {f"GET {p}" for p in http.UNAUTHENTICATED_PATHS}
    isapi = by_request["GET /ISAPI/System/deviceInfo"]
    assert isapi.status == Status.OK and isapi.port is not None
    assert http.parse_http(isapi.data, isapi.request).fields["http.realm"] == "IP Camera(C5654)"
    assert not any(b"authorization" in r.lower() for r in requests)


def test_probe_with_credentials_logs_in_with_digest_and_keeps_secrets_out() -> None:
    password = "Secret-Pass-42"

    async def scenario() -> tuple[list[Observation], list[bytes]]:
        server = LocalServer(lambda r, w: asyncio.sleep(0))
        server.handler = hikvision_handler(server, password)
        ctx = ProbeContext(timeout=2.0, credentials=(Credential("operator", password),))
        async with server:
            observations = await http.probe(Target("127.0.0.1", server.port), ctx)
        return list(observations), server.requests

    observations, requests = asyncio.run(scenario())
    fields = [http.parse_http(o.data, o.request).fields for o in observations]
    assert any(f.get("device.model") == "DS-7816H-SNH" for f in fields)
    assert any(b"authorization: digest" in r.lower() for r in requests)
    assert password.encode() not in b"".join(requests)  # digest never sends the password itself
    for observation in observations:
        assert password not in (observation.request or "") and b"operator" not in observation.data
        assert "operator" not in (observation.request or "")


def test_probe_with_wrong_credentials_keeps_only_the_unauthenticated_answers() -> None:
    async def scenario() -> list[Observation]:
        server = LocalServer(lambda r, w: asyncio.sleep(0))
        server.handler = hikvision_handler(server, "the-real-one")
        ctx = ProbeContext(timeout=2.0, credentials=(Credential("operator", "wrong"),))
        async with server:
            return list(await http.probe(Target("127.0.0.1", server.port), ctx))

    observations = asyncio.run(scenario())
    fields = [http.parse_http(o.data, o.request).fields for o in observations]
    assert not any("device.model" in f for f in fields)
    assert sum(1 for f in fields if f.get("http.status") == "401") == 1


def test_probe_silent_server_times_out_without_raising() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await reader.read()  # never answer; return only when the client gives up and closes

    async def scenario() -> list[Observation]:
        async with LocalServer(silent) as server:
            return list(await http.probe(Target("127.0.0.1", server.port), ProbeContext(timeout=0.3)))

    observations = asyncio.run(scenario())
    assert [o.status for o in observations] == [Status.TIMEOUT]


def test_probe_reset_mid_response_is_not_ok() -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nServer: App-webs/\r\n\r\npartial")
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close
        writer.transport.abort()

    async def scenario() -> list[Observation]:
        async with LocalServer(reset) as server:
            return list(await http.probe(Target("127.0.0.1", server.port), ProbeContext(timeout=2.0)))

    observations = asyncio.run(scenario())
    assert observations and all(o.status in (Status.TRUNCATED, Status.PROTOCOL_ERROR) for o in observations)


def test_probe_endless_body_is_cut_at_max_bytes() -> None:
    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n")
        while True:
            writer.write(b"<p>" + b"x" * 4093)
            await writer.drain()

    async def scenario() -> list[Observation]:
        async with LocalServer(endless) as server:
            ctx = ProbeContext(timeout=5.0, max_bytes=32 * 1024)
            return list(await http.probe(Target("127.0.0.1", server.port), ctx))

    observations = asyncio.run(scenario())
    assert observations
    for observation in observations:
        assert observation.status == Status.TRUNCATED
        assert len(observation.data) == 32 * 1024


def test_probe_closed_port_is_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    observations = asyncio.run(http.probe(Target("127.0.0.1", port), ProbeContext(timeout=1.0)))
    assert [o.status for o in observations] == [Status.REFUSED]


def _self_signed_server_context(tmp_path: Path) -> ssl.SSLContext:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


def test_probe_tls_port_fetches_over_https(tmp_path: Path) -> None:
    context = _self_signed_server_context(tmp_path)

    async def scenario() -> list[Observation]:
        server = LocalServer(lambda r, w: asyncio.sleep(0), ssl_context=context)
        server.handler = hikvision_handler(server)
        async with server:
            ctx = ProbeContext(timeout=2.0, extra={"tls_ports": [server.port]})
            return list(await http.probe(Target("127.0.0.1", server.port), ctx))

    observations = asyncio.run(scenario())
    fields = [http.parse_http(o.data, o.request).fields for o in observations]
    assert any(f.get("http.header.server") == "Hikvision-Webs" for f in fields)


def test_request_is_readable_and_bounded() -> None:
    request = http.build_request("192.0.2.1", 8080, "/ISAPI/System/deviceInfo")
    assert request.startswith(b"GET /ISAPI/System/deviceInfo HTTP/1.1\r\nHost: 192.0.2.1:8080\r\n")
    assert request.endswith(b"Connection: close\r\n\r\n")
    assert b"Authorization" not in request
    assert base64.b64encode(b"u:p") in httpauth.basic_authorization(Credential("u", "p")).encode()


def test_probe_answers_a_basic_challenge_only_after_it_is_issued() -> None:
    token = base64.b64encode(b"viewer:pa55").decode()

    async def dahua_basic(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        server.requests.append(request)
        path = request.split(b" ", 2)[1].decode()
        if path == http.DAHUA_SYSTEM_INFO and f"Authorization: Basic {token}".encode() in request:
            writer.write(fixture("dahua-magicbox-getsysteminfo.txt"))
        elif path.startswith("/cgi-bin/"):
            writer.write(b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="Login to 4X7C5A1ZAG21L3F"\r\n')
            writer.write(b"Content-Length: 0\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    server = LocalServer(dahua_basic)

    async def scenario() -> list[Observation]:
        async with server:
            ctx = ProbeContext(timeout=2.0, credentials=(Credential("viewer", "pa55"),))
            return await http.probe(Target("127.0.0.1", server.port), ctx)

    observations = asyncio.run(scenario())
    fields = [http.parse_http(o.data, o.request).fields for o in observations]
    assert any(f.get("device.serial") == "4X7C5A1ZAG21L3F" for f in fields)
    assert any(f.get("http.realm") == "Login to 4X7C5A1ZAG21L3F" for f in fields)
    authorized = [r for r in server.requests if b"Authorization" in r]
    assert authorized and all(b"/cgi-bin/magicBox.cgi" in r for r in authorized)
    first_system_info = next(r for r in server.requests if http.DAHUA_SYSTEM_INFO.encode() in r)
    assert b"Authorization" not in first_system_info
    assert all(b"pa55" not in o.data and "pa55" not in (o.request or "") for o in observations)


def test_binary_body_gets_hashes_but_no_text_fields() -> None:
    icon = b"\x00\x00\x01\x00" + bytes(range(200))
    data = b"HTTP/1.1 200 OK\r\nContent-Type: image/x-icon\r\n\r\n" + icon
    fields = http.parse_http(data, "GET /favicon.ico").fields
    assert "http.favicon.mmh3" in fields and "http.body" not in fields and "http.title" not in fields


def _challenge_everything(server: LocalServer, password: str) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        server.requests.append(request)
        if _digest_ok(request, password):
            writer.write(fixture("dahua-magicbox-getsysteminfo.txt"))
        else:
            writer.write(fixture("hikvision-isapi-deviceinfo-401.txt"))
        await writer.drain()

    return handle


@pytest.mark.parametrize(
    ("credentials", "expected_logins"),
    [
        # all wrong: one attempt per credential on the first challenged path, then stop (account lockout)
        pytest.param((Credential("a", "x"), Credential("b", "y")), 2, id="all-wrong-stop-early"),
        # second right: 1 failure, then only the working credential on each of the 4 credentialed paths
        pytest.param(
            (Credential("a", "x"), Credential("b", "right")), 1 + len(http.CREDENTIALED_PATHS), id="second-right"
        ),
    ],
)
def test_failed_logins_are_kept_to_a_minimum(credentials: tuple[Credential, ...], expected_logins: int) -> None:
    server = LocalServer(lambda r, w: asyncio.sleep(0))
    server.handler = _challenge_everything(server, "right")

    async def scenario() -> list[Observation]:
        async with server:
            return await http.probe(
                Target("127.0.0.1", server.port), ProbeContext(timeout=2.0, credentials=credentials)
            )

    asyncio.run(scenario())
    logins = [r for r in server.requests if b"authorization: digest" in r.lower()]
    assert len(logins) == expected_logins


# ------------------------------------------------------------------------------------------------ contract

MODULE_PROTOCOLS = {
    "http": {"http"},
    "rtsp": {"rtsp"},
    "tls": {"tls-cert"},
    "banner": {"banner"},
    "snmp": {"snmp-sysdescr", "snmp-sysobjectid", "snmp-object"},
    "mac": {"mac"},
    "dhcp": {"dhcp-vendor-class"},
    "vendorports": {"hikvision-private", "dahua-private"},
}


@pytest.mark.parametrize("module_name", [pytest.param(name, id=name) for name in MODULE_PROTOCOLS])
def test_module_follows_the_protocol_module_contract(module_name: str) -> None:
    import importlib
    import inspect

    from trueorigin import probes

    module = importlib.import_module(f"trueorigin.probes.{module_name}")
    assert module in probes.modules()
    assert set(module.PARSERS) == MODULE_PROTOCOLS[module_name]
    for protocol in module.PARSERS:
        assert probes.parsers()[protocol] is module.PARSERS[protocol]
    doc = (module.__doc__ or "").lower()
    assert "safe" in doc or "no probe" in doc  # says what it sends and that it is read-only
    if hasattr(module, "probe"):
        assert inspect.iscoroutinefunction(module.probe)
        ports = getattr(module, "TCP_PORTS", ()) + getattr(module, "UDP_PORTS", ())
        assert ports and all(isinstance(port, int) and 0 < port < 65536 for port in ports)


@pytest.mark.parametrize(
    ("value", "firmware", "build"),
    [
        pytest.param("2.800.0000016.0.R,build:2020-06-05", "2.800.0000016.0.R", "2020-06-05", id="dahua-comma-build"),
        pytest.param("2.400.0000.0.R, Build: 2016-03-11", "2.400.0000.0.R", "2016-03-11", id="spaced-capital-build"),
        pytest.param("V5.5.0 build 200101", "V5.5.0", "200101", id="space-build"),
        pytest.param("2.800.0000016.0.R", "2.800.0000016.0.R", None, id="no-build"),
    ],
)
def test_magicbox_version_splits_off_the_build(value: str, firmware: str, build: str | None) -> None:
    body = f"version={value}\r\n".encode()
    data = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    fields = http.parse_http(data, "GET /cgi-bin/magicBox.cgi?action=getSoftwareVersion").fields
    assert fields["device.firmware"] == firmware
    assert fields.get("http.dahua.build") == build


def test_a_plain_response_element_is_not_taken_for_hilink() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n"
    data = head + b'<?xml version="1.0"?><response><DeviceName>x</DeviceName></response>'
    parsed = http.parse_http(data, "GET /api/device/information")
    assert parsed.fields["http.xml.root"] == "response"
    assert "device.model" not in parsed.fields


def test_malformed_declaration_retry_still_refuses_entities() -> None:
    body = (
        b'<?xml version="1.0"encoding="UTF-8"?><!DOCTYPE r [<!ENTITY a "aaaa">]>'
        b"<response><WebUIVersion>&a;</WebUIVersion></response>"
    )
    parsed = http.parse_http(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n" + body, "GET /")
    assert parsed.ok
    assert "http.xml.root" not in parsed.fields
