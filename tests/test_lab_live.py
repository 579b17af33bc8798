# ruff: noqa: E501, UP031  -- fixtures are imported by name; long literal request lines stay readable on one line
"""The lab over real sockets, from inside its own network namespace (needs root; skipped otherwise)."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from lab_fixtures import Exchange, lab_cli, run_exchanges, run_probe
from needs import require
from trueorigin.lab import answers, wire
from trueorigin.lab.profiles import load_profiles
from trueorigin.lab.server import rpc2_login_hash
from trueorigin.lab.site import LabSite, build_manifest, can_use_namespace
from trueorigin.model import Observation
from trueorigin.probes import parse, parsers
from trueorigin.probes.ssdp import probe_payload as ssdp_probe_payload

pytestmark = pytest.mark.lab


def _host(site: LabSite, profile: str) -> dict[str, Any]:
    return next(h for h in site.manifest["hosts"] if h["profile"] == profile)


def _http(address: str, path: str, extra: str = "", method: str = "GET", body: bytes = b"") -> dict[str, Any]:
    head = f"{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n{extra}"
    if body:
        head += f"Content-Length: {len(body)}\r\n"
    return {"transport": "tcp", "address": address, "port": 80, "payload": (head + "\r\n").encode() + body}


def _digest(challenge: bytes, cred: dict[str, str], method: str, uri: str) -> str:
    header = re.search(rb"WWW-Authenticate: (Digest [^\r\n]+)", challenge)
    assert header, challenge[:300]
    _, params = answers.parse_auth_params(header.group(1).decode())
    qop = "auth" if "qop" in params else ""
    response = answers.digest_response(cred["username"], cred["password"], params["realm"], method, uri,
                                       params["nonce"], qop, "00000001" if qop else "", "abc" if qop else "")
    out = f'Digest username="{cred["username"]}", realm="{params["realm"]}", nonce="{params["nonce"]}", uri="{uri}", response="{response}"'
    return out + (', qop=auth, nc=00000001, cnonce="abc"' if qop else "")


def test_site_holds_every_profile(lab_site: LabSite) -> None:
    assert {h["profile"] for h in lab_site.manifest["hosts"]} == set(load_profiles())


def test_isapi_digest_401_then_200_with_manifest_credentials(lab_site: LabSite, lab_exchange: Exchange) -> None:
    host = _host(lab_site, "hikvision-oem-lts")
    first = lab_exchange([_http(host["address"], "/ISAPI/System/deviceInfo")])[0]["data"]
    assert first.startswith(b"HTTP/1.1 401 Unauthorized\r\nDate: ") and b"Server: DNVRS-Webs\r\n" in first
    auth = _digest(first, host["credentials"][0], "GET", "/ISAPI/System/deviceInfo")
    tampered = auth.replace('response="', 'response="0')
    ok, wrong = lab_exchange([
        _http(host["address"], "/ISAPI/System/deviceInfo", f"Authorization: {auth}\r\n"),
        _http(host["address"], "/ISAPI/System/deviceInfo", f"Authorization: {tampered}\r\n"),
    ])
    assert ok["data"].startswith(b"HTTP/1.1 200 OK") and f"<macAddress>{host['mac']}</macAddress>".encode() in ok["data"]
    assert host["serial"].encode() in ok["data"] and wrong["data"].startswith(b"HTTP/1.1 401")


def test_dahua_cgi_rpc2_and_oem_vendor(lab_site: LabSite, lab_exchange: Exchange) -> None:
    host = _host(lab_site, "dahua-oem-amcrest")
    uri = "/cgi-bin/magicBox.cgi?action=getVendor"
    challenge, login = lab_exchange([
        _http(host["address"], uri),
        _http(host["address"], "/RPC2_Login", method="POST",
              body=b'{"method":"global.login","params":{"userName":"admin","password":"","clientType":"Web3.0"},"id":1}'),
    ])
    assert challenge["data"].startswith(b"HTTP/1.1 401") and f'realm="Login to {host["serial"]}"'.encode() in challenge["data"]
    assert b'"random" : "' in login["data"] and b"268632079" in login["data"]
    auth = _digest(challenge["data"], host["credentials"][0], "GET", uri)
    vendor = lab_exchange([_http(host["address"], uri, f"Authorization: {auth}\r\n")])[0]["data"]
    assert vendor.endswith(b"vendor=Amcrest\r\n")
    random = re.search(rb'"random" : "(\w+)"', login["data"]).group(1).decode()  # type: ignore[union-attr]
    realm = f"Login to {host['serial']}"
    password = rpc2_login_hash("admin", host["credentials"][0]["password"], realm, random)
    body = ('{"method":"global.login","params":{"userName":"admin","password":"%s","clientType":"Web3.0",'
            '"authorityType":"Default"},"id":2}' % password).encode()
    second = lab_exchange([_http(host["address"], "/RPC2_Login", method="POST", body=body)])[0]["data"]
    assert b'"result" : true' in second


@pytest.mark.parametrize(("profile", "realm"), [pytest.param("hikvision-camera", b'realm="Hikvision"', id="hikvision"),
                                                pytest.param("dahua-nvr", b'realm="Login to ', id="dahua")])
def test_rtsp_options_and_describe_401(lab_site: LabSite, lab_exchange: Exchange, profile: str, realm: bytes) -> None:
    address = _host(lab_site, profile)["address"]
    options, describe = lab_exchange([
        {"transport": "tcp", "address": address, "port": 554, "payload": b"OPTIONS rtsp://%s/ RTSP/1.0\r\nCSeq: 7\r\n\r\n" % address.encode(), "wait": 1},
        {"transport": "tcp", "address": address, "port": 554, "payload": b"DESCRIBE rtsp://%s/ RTSP/1.0\r\nCSeq: 8\r\n\r\n" % address.encode(), "wait": 1},
    ])
    assert options["data"].startswith(b"RTSP/1.0 200 OK\r\nCSeq: 7\r\n") and b"Public: " in options["data"]
    assert describe["data"].startswith(b"RTSP/1.0 401 Unauthorized\r\nCSeq: 8\r\n") and realm in describe["data"]


def test_tls_certificates_carry_vendor_naming(lab_site: LabSite, lab_exchange: Exchange) -> None:
    hik, dahua = _host(lab_site, "hikvision-nvr"), _host(lab_site, "dahua-camera")
    tls_hik, tls_dahua = lab_exchange([
        {"transport": "tls", "address": hik["address"], "port": 443, "payload": b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
        {"transport": "tls", "address": dahua["address"], "port": 443, "payload": b""},
    ])
    cert_hik = x509.load_der_x509_certificate(base64.b64decode(tls_hik["cert_der_b64"]))
    assert cert_hik.subject.rfc4514_string() == "CN=www.hikvision.com,OU=DVRNVR,O=HIKVISION,L=HangZhou,ST=ZheJiang,C=CN"
    assert cert_hik.issuer == cert_hik.subject and tls_hik["data"].startswith(b"HTTP/1.1 200 OK")
    cert_dahua = x509.load_der_x509_certificate(base64.b64decode(tls_dahua["cert_der_b64"]))
    assert "CN=Dahua Device NVR CA" in cert_dahua.issuer.rfc4514_string() and dahua["address"] in cert_dahua.subject.rfc4514_string()


def test_closed_port_is_refused(lab_site: LabSite, lab_exchange: Exchange) -> None:
    address = _host(lab_site, "zte-router")["address"]
    answer = lab_exchange([{"transport": "tcp", "address": address, "port": 554, "payload": b""}])[0]
    assert not answer["ok"] and "ConnectionRefused" in answer["error"]


SADP_PROBE = b'<?xml version="1.0" encoding="utf-8"?><Probe><Uuid>ABC-1</Uuid><Types>inquiry</Types></Probe>'
WSD_PROBE = (b'<?xml version="1.0" encoding="UTF-8"?><e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" '
             b'xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">'
             b"<e:Header><w:MessageID>uuid:probe-1</w:MessageID><w:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</w:To>"
             b"<w:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</w:Action></e:Header><e:Body><d:Probe/></e:Body></e:Envelope>")
DHIP_SEARCH = answers.dhip_frame(b'{"method":"DHDiscover.search","params":{"mac":"","uni":0}}\n')


def test_udp_discovery_unicast_and_multicast(lab_site: LabSite, lab_exchange: Exchange) -> None:
    hik, dahua = _host(lab_site, "hikvision-camera"), _host(lab_site, "dahua-xvr")
    sadp, dhip, wsd_multi, sadp_multi = lab_exchange([
        {"transport": "udp", "address": hik["address"], "port": 37020, "payload": SADP_PROBE},
        {"transport": "udp", "address": dahua["address"], "port": 37810, "payload": DHIP_SEARCH},
        {"transport": "udp", "address": "239.255.255.250", "port": 3702, "payload": WSD_PROBE, "collect": True, "wait": 2},
        {"transport": "udp", "address": "239.255.255.250", "port": 37020, "payload": SADP_PROBE, "collect": True, "wait": 2},
    ])
    reply = sadp["answers"][0]
    assert reply["peer"] == hik["address"] and b"<Uuid>ABC-1</Uuid>" in reply["data"]
    assert f"<MAC>{hik['mac'].replace(':', '-')}</MAC>".encode() in reply["data"]
    assert dhip["answers"][0]["data"][4:8] == b"DHIP" and dahua["serial"].encode() in dhip["answers"][0]["data"]
    wsd_hosts = {h["address"] for h in lab_site.manifest["hosts"] if 3702 in h["ports"]["udp"]}
    assert {a["peer"] for a in wsd_multi["answers"]} == wsd_hosts
    assert all(b"<wsa:RelatesTo>uuid:probe-1<" in a["data"] or b"<a:RelatesTo>uuid:probe-1<" in a["data"] for a in wsd_multi["answers"])
    sadp_hosts = {h["address"] for h in lab_site.manifest["hosts"] if 37020 in h["ports"]["udp"]}
    assert {a["peer"] for a in sadp_multi["answers"]} == sadp_hosts


def test_snmp_answers_only_its_community_and_mdns(lab_site: LabSite, lab_exchange: Exchange) -> None:
    printer, axis = _host(lab_site, "hp-printer"), _host(lab_site, "axis-camera")
    good, bad, mdns = lab_exchange([
        {"transport": "udp", "address": printer["address"], "port": 161, "payload": wire.snmp_get_request(printer["snmp_community"], ["1.3.6.1.2.1.1.1.0"])},
        {"transport": "udp", "address": printer["address"], "port": 161, "payload": wire.snmp_get_request("public", ["1.3.6.1.2.1.1.1.0"])},
        {"transport": "udp", "address": axis["address"], "port": 5353, "payload": wire.dns_query(["_axis-video._tcp.local"])},
    ])
    assert b"HP ETHERNET MULTI-ENVIRONMENT" in good["answers"][0]["data"] and bad["answers"] == []
    assert axis["mac"].replace(":", "").upper().encode() in mdns["answers"][0]["data"]


def test_ssdp_probe_gets_answer_and_description(lab_site: LabSite) -> None:
    """The project's own SSDP probe: unicast M-SEARCH, then the UPnP description its LOCATION names."""
    axis = _host(lab_site, "axis-camera")
    found = run_probe(lab_site, "ssdp", axis["address"])
    answers_ = [o for o in found if o["transport"] == "udp"]
    descriptions = [o for o in found if o["transport"] == "tcp"]
    assert answers_ and len(descriptions) == 1, found
    answer = parse(Observation(host=axis["address"], protocol="ssdp", data=answers_[0]["data"], request=answers_[0]["request"]))
    assert answer.ok and answer.fields["ssdp.header.location"] == f"http://{axis['address']}:80/rootdesc.xml"
    assert "Portable SDK for UPnP devices" in answer.fields["ssdp.header.server"]
    description = parse(Observation(host=axis["address"], protocol="ssdp", data=descriptions[0]["data"], request=descriptions[0]["request"]))
    assert description.fields["device.manufacturer"] == "AXIS"
    assert description.fields["device.serial"] == axis["mac"].replace(":", "").upper()
    assert description.fields["device.model"] == f"AXIS {axis['model']}"


@pytest.mark.parametrize("profile", ["dahua-camera", "dahua-oem-lorex", "dahua-oem-empiretech"])
def test_dahua_family_ssdp_keeps_the_makers_answer(lab_site: LabSite, profile: str) -> None:
    """Dahua and its relabels answer M-SEARCH as in home-assistant/core#46822; the description is unsourced."""
    host = _host(lab_site, profile)
    found = run_probe(lab_site, "ssdp", host["address"])
    assert found and all(o["transport"] == "udp" for o in found)  # LOCATION's port 49152 is closed in the lab
    parsed = [parse(Observation(host=host["address"], protocol="ssdp", data=o["data"])) for o in found]
    udn = f"www.dahuatech.com.device_3_0-{host['serial']}"
    assert {p.fields["ssdp.header.st"] for p in parsed} == {f"uuid:{udn}", f"urn:schemas-upnp-org:device:3.0-{host['serial']}"}
    for p in parsed:
        assert p.fields["ssdp.header.server"] == "Linux/3.8.8, UPnP/1.0, ZheJiang Dahua Technology CO.,LTD. Upnp SDK"
        assert p.fields["ssdp.header.usn"].startswith(f"uuid:{udn}")
        assert p.fields["ssdp.header.location"] == f"http://{host['address']}:49152/upnp_device_desc.xml"


def test_ssdp_multicast_reaches_every_ssdp_host_and_hikvision_stays_out(lab_site: LabSite, lab_exchange: Exchange) -> None:
    search = ssdp_probe_payload("upnp:rootdevice")
    reply = lab_exchange([{"transport": "udp", "address": "239.255.255.250", "port": 1900, "payload": search, "collect": True, "wait": 2}])[0]
    expected = {h["address"] for h in lab_site.manifest["hosts"] if 1900 in h["ports"]["udp"]}
    assert expected and {a["peer"] for a in reply["answers"]} == expected
    assert len(reply["answers"]) == len(expected)  # one answer per host for a single search target
    hikvision = {h["address"] for h in lab_site.manifest["hosts"] if h.get("vendor_id") == "hikvision"}
    assert not hikvision & expected  # no public Hikvision SSDP capture: the family does not answer


# nmap-service-probes `Probe TCP SMBProgNeg` (168 bytes), whose reply nmap's `hik-connect` line matches
SMB_PROG_NEG = bytes.fromhex(
    "000000a4ff534d4272000000000801400000000000000000000000000000400600000100008100025043204e4554574f524b2050"
    "524f4752414d20312e3000024d4943524f534f4654204e4554574f524b5320312e303300024d4943524f534f4654204e4554574f"
    "524b5320332e3000024c414e4d414e312e3000024c4d312e3258303032000253616d626100024e54204c414e4d414e20312e3000"
    "024e54204c4d20302e313200"
)
# mcw0 Dahua console: DVRIP "request realm" header
DVRIP_REALM_REQUEST = bytes.fromhex("a0010000" + "00" * 20 + "050201010000a1aa")


def test_vendor_sdk_ports_are_quiet_until_a_documented_hello(lab_site: LabSite, lab_exchange: Exchange) -> None:
    hik, dahua = _host(lab_site, "hikvision-oem-lts"), _host(lab_site, "dahua-oem-amcrest")
    tcp = {"transport": "tcp", "wait": 1}
    quiet_hik, smb, http_on_sdk, quiet_dahua, realm, split = lab_exchange([
        dict(tcp, address=hik["address"], port=8000, payload=b""),
        dict(tcp, address=hik["address"], port=8000, payload=SMB_PROG_NEG),
        dict(tcp, address=hik["address"], port=8000, payload=b"GET / HTTP/1.0\r\n\r\n"),
        dict(tcp, address=dahua["address"], port=37777, payload=b""),
        dict(tcp, address=dahua["address"], port=37777, payload=DVRIP_REALM_REQUEST),
        dict(tcp, address=dahua["address"], port=37777, payload=b"\0" * 8),
    ])
    assert quiet_hik["data"] == b"" and http_on_sdk["data"] == b"" and quiet_dahua["data"] == b"" and split["data"] == b""
    assert smb["data"] == b"\0\0\0\x10\0\0\0\r\0\0\0\r\0\0\0\0"
    frame = realm["data"]
    body = frame[32:]
    assert frame[:2] == b"\xb0\x01" and int.from_bytes(frame[4:8], "little") == len(body) == int.from_bytes(frame[16:20], "little")
    assert body.startswith(f"Realm:Login to {dahua['serial']}\r\nRandom:".encode()) and body.endswith(b"\r\n")
    parsed = parse(Observation(host=hik["address"], protocol="hikvision-private", data=smb["data"], request="tcp/8000"))
    assert parsed.fields["vendorport.head_hex"] == "000000100000000d0000000d00000000"


def test_project_vendorports_probe_records_the_silence(lab_site: LabSite) -> None:
    """trueorigin.probes.vendorports sends nothing, so against a lab (or real) SDK port it sees an open, quiet port."""
    hik = _host(lab_site, "hikvision-camera")
    found = run_probe(lab_site, "vendorports", hik["address"], 8000)
    assert [(o["protocol"], o["port"], o["data"]) for o in found] == [("hikvision-private", 8000, b"")]


def test_hikvision_status_line_echoes_http_1_0_like_the_nmap_signatures(lab_site: LabSite, lab_exchange: Exchange) -> None:
    address = _host(lab_site, "hikvision-camera")["address"]
    old, new = lab_exchange([
        {"transport": "tcp", "address": address, "port": 80, "payload": b"GET / HTTP/1.0\r\n\r\n"},
        {"transport": "tcp", "address": address, "port": 80, "payload": b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"},
    ])
    assert re.match(rb"HTTP/1\.0 200 OK\r\nDate: .*\r\nServer: App-webs/\r\n", old["data"])  # nmap line 9762
    assert new["data"].startswith(b"HTTP/1.1 200 OK\r\n")


def test_hikvision_favicon_is_the_real_icon(lab_site: LabSite, lab_exchange: Exchange) -> None:
    address = _host(lab_site, "hikvision-nvr")["address"]
    answer = lab_exchange([_http(address, "/favicon.ico")])[0]["data"]
    parsed = parse(Observation(host=address, protocol="http", data=answer, request="GET /favicon.ico"))
    assert parsed.fields["http.favicon.md5"] == "89b932fcc47cf4ca3faadb0cfdef89cf"  # nmap favicon-db, recog


@pytest.mark.parametrize("behaviour", ["endless-body", "xml-bomb", "wrong-length", "malformed", "reset"])
def test_hostile_devices_misbehave(lab_site: LabSite, lab_exchange: Exchange, behaviour: str) -> None:
    address = _host(lab_site, f"hostile-{behaviour}")["address"]
    answer = lab_exchange([dict(_http(address, "/"), max_bytes=300_000, wait=2)])[0]
    data = answer.get("data", b"")
    if behaviour == "endless-body":
        assert len(data) == 300_000  # still streaming when the client stopped reading
    elif behaviour == "xml-bomb":
        assert b"<!ENTITY lol9" in data
    elif behaviour == "wrong-length":
        assert b"Content-Length: 1048576" in data and len(data.split(b"\r\n\r\n", 1)[1]) < 100
    elif behaviour == "malformed":
        assert data.startswith(b"HTTP/1.1 2O0 \x00")
    else:
        assert answer.get("reset") or len(data) < 120


def test_slow_device_sends_a_prefix_only(lab_site: LabSite, lab_exchange: Exchange) -> None:
    address = _host(lab_site, "hostile-slow")["address"]
    data = lab_exchange([dict(_http(address, "/"), wait=1)])[0]["data"]
    assert b"HTTP/1.1 200 OK".startswith(data[:15]) and b"hello from a hostile device" not in data


# --- each profile's answers parse with the project's own parsers ------------------------------------------


def _observations(site: LabSite, exchange: Exchange, host: dict[str, Any]) -> list[Observation]:
    """Ask every port the host has what a scanner would ask, and wrap each answer as an Observation."""
    address, profile = host["address"], load_profiles()[host["profile"]]
    requests: list[tuple[str, str | None, dict[str, Any]]] = []
    for port, service in sorted(profile.tcp.items()):
        if service == "http":
            requests.append(("http", "GET /", dict(_http(address, "/"), port=port)))
        elif service == "https":
            requests.append(("tls-cert", None, {"transport": "tls", "address": address, "port": port, "payload": b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"}))
        elif service == "rtsp":
            requests.append(("rtsp", "OPTIONS", {"transport": "tcp", "address": address, "port": port, "payload": b"OPTIONS rtsp://%s/ RTSP/1.0\r\nCSeq: 1\r\n\r\n" % address.encode(), "wait": 1}))
        elif service == "banner":
            requests.append(("banner", None, {"transport": "tcp", "address": address, "port": port, "payload": b"", "wait": 1}))
        elif service == "private":
            hello = bytes.fromhex(profile.section("private")[str(port)][0]["request_hex"])
            protocol = "hikvision-private" if profile.vendor == "hikvision" else "dahua-private"
            requests.append((protocol, f"tcp/{port}", {"transport": "tcp", "address": address, "port": port, "payload": hello, "wait": 1}))
    for port, service in sorted(profile.udp.items()):
        payload = {"sadp": SADP_PROBE, "dhip": DHIP_SEARCH, "wsd": WSD_PROBE, "ssdp": ssdp_probe_payload(host=f"{address}:1900")}.get(service)
        protocol = {"sadp": "sadp", "dhip": "dhip", "wsd": "ws-discovery", "ssdp": "ssdp", "mdns": "mdns", "snmp": "snmp-sysdescr"}.get(service)
        if service == "mdns":
            payload = wire.dns_query([str(profile.section("mdns")["service"])])
        elif service == "snmp":
            payload = wire.snmp_get_request(host["snmp_community"], ["1.3.6.1.2.1.1.1.0"])
        if payload is not None and protocol is not None:
            requests.append((protocol, None, {"transport": "udp", "address": address, "port": port, "payload": payload}))
    results = exchange([r for _, _, r in requests])
    out = []
    for (protocol, request, _), result in zip(requests, results, strict=True):
        if protocol == "tls-cert":
            out.append(Observation(host=address, protocol="tls-cert", data=base64.b64decode(result["cert_der_b64"])))
            out.append(Observation(host=address, protocol="http", data=result.get("data", b""), request="GET /"))
            continue
        data = result["answers"][0]["data"] if result.get("answers") else result.get("data", b"")
        out.append(Observation(host=address, protocol=protocol, data=data, request=request))
    return out


PARSED_PROFILES = sorted(p for p, prof in load_profiles().items() if not prof.hostile)
# Profiles whose every answer is unsourced, so nothing the lab sends can be parsed: named, not skipped silently.
NOTHING_TO_PARSE = {"hytera-repeater": "only a silent TCP 50000: the real device's answer is not public"}


@pytest.mark.parametrize("profile_id", PARSED_PROFILES, ids=PARSED_PROFILES)
def test_profile_answers_parse_with_project_parsers(lab_site: LabSite, lab_exchange: Exchange, profile_id: str) -> None:
    host = _host(lab_site, profile_id)
    observations = _observations(lab_site, lab_exchange, host)
    available = parsers()
    checked = set()
    for observation in observations:
        assert observation.data, (observation.protocol, observation.request, "no answer")
        assert observation.protocol in available, observation.protocol
        parsed = parse(observation)
        assert parsed.ok, (observation.protocol, parsed.error, observation.data[:200])
        assert parsed.fields, observation.protocol
        if observation.protocol == "sadp":
            assert parsed.fields.get("device.mac") == host["mac"]
            assert parsed.fields.get("device.serial") == host["serial"]
        if observation.protocol == "dhip":
            assert parsed.fields.get("device.serial") == host["serial"]
        checked.add(observation.protocol)
    if not checked:
        assert profile_id in NOTHING_TO_PARSE, f"{profile_id}: no answer was checked"
        pytest.skip(NOTHING_TO_PARSE[profile_id])


def test_loopback_fallback_serves_unicast_on_127(tmp_path: Any) -> None:
    """Without a namespace the site lives on 127.x addresses of the host's own lo: unicast only."""
    unprivileged = int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    if os.geteuid() != 0 and unprivileged > 80:
        pytest.skip(f"the fallback binds ports 80/554 ..., below ip_unprivileged_port_start={unprivileged}")
    cidr = f"127.{100 + os.getpid() % 100}.0.0/16"
    wanted = {"hikvision-camera", "axis-camera"}
    seed = next(s for s in range(1, 500) if wanted <= {h["profile"] for h in build_manifest(40, s, "default", cidr)["hosts"]})
    site = LabSite(hosts=40, seed=seed, cidr=cidr, namespace=f"trueorigin-lab-lo{os.getpid()}", state_dir=tmp_path, force_loopback=True)
    manifest = site.up()
    try:
        assert manifest["mode"] == "loopback" and manifest["namespace"] is None and manifest["cidr"] == cidr
        hik, axis = (next(h for h in manifest["hosts"] if h["profile"] == p) for p in ("hikvision-camera", "axis-camera"))
        web, sadp, closed = run_exchanges(site, [
            _http(hik["address"], "/"),
            {"transport": "udp", "address": hik["address"], "port": 37020, "payload": SADP_PROBE},
            {"transport": "tcp", "address": hik["address"], "port": 23, "payload": b""},
        ])
        assert web["data"].startswith(b"HTTP/1.1 200 OK\r\n") and b"Server: App-webs/\r\n" in web["data"]
        assert [a["peer"] for a in sadp["answers"]] == [hik["address"]] and hik["serial"].encode() in sadp["answers"][0]["data"]
        assert not closed["ok"] and "ConnectionRefused" in closed["error"]
        found = run_probe(site, "ssdp", axis["address"])  # unicast M-SEARCH, then the description over TCP
        assert {o["transport"] for o in found} == {"udp", "tcp"}
    finally:
        site.down()
    assert not site.pid_path.exists()


def test_down_from_another_directory_still_stops_the_simulator(tmp_path: Any) -> None:
    """The pid file lives in the state directory of `up`; `down` elsewhere finds the simulator in the namespace."""
    require(can_use_namespace(), "the device lab needs root and iproute2 (`ip`) to create a network namespace")
    namespace = f"trueorigin-lab-dn{os.getpid()}"
    site = LabSite(hosts=5, seed=1, namespace=namespace, state_dir=tmp_path / "a")
    site.up()
    pid = int(site.pid_path.read_text())
    try:
        LabSite(namespace=namespace, state_dir=tmp_path / "b").down()
        assert not Path(f"/proc/{pid}").exists() or b"trueorigin.lab.server" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    finally:
        site.down()


def test_cli_up_run_down(tmp_path: Any) -> None:
    require(can_use_namespace(), "the device lab needs root and iproute2 (`ip`) to create a network namespace")
    namespace = f"trueorigin-lab-cli{__import__('os').getpid()}"
    manifest = tmp_path / "site.json"
    up = lab_cli("lab", "up", "--hosts", "30", "--seed", "3", "--namespace", namespace, "--manifest", str(manifest))
    try:
        assert up.returncode == 0, up.stderr
        assert f"namespace: {namespace}" in up.stdout and "cidr: 198.18.0.0/16" in up.stdout and str(manifest) in up.stdout
        run = lab_cli("lab", "run", "--namespace", namespace, "--", "ip", "-o", "addr", "show", "dev", "lo")
        assert run.returncode == 0 and run.stdout.count("198.18.") == 30
        assert lab_cli("lab", "run", "--namespace", namespace, "--", "false").returncode == 1
    finally:
        down = lab_cli("lab", "down", "--namespace", namespace)
    assert down.returncode == 0 and namespace not in __import__("subprocess").run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    bad = lab_cli("lab", "up", "--hosts", "5", "--mix", "nope", "--namespace", namespace + "x")
    assert bad.returncode == 2 and "unknown mix" in bad.stderr and "Traceback" not in bad.stderr
