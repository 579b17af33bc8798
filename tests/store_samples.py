"""Realistic identifications with evidence chains, shared by the store, diff, findings and report tests.

The signals are ones real devices send; each is cited next to the data. A helper module, not a test module:
`sample_identifications()` builds a fresh set.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from trueorigin.model import Evidence, Identification, Observation, Source

# Server header values of Hikvision's embedded web server, as listed in nmap's service probes
# (https://github.com/nmap/nmap/blob/master/nmap-service-probes, seen 2026-11-24) and docs/ARCHITECTURE.md.
NMAP_PROBES = Source(
    url="https://github.com/nmap/nmap/blob/master/nmap-service-probes",
    title="nmap-service-probes",
    date="2026-11-24",
)
# OEM relabeling of Hikvision by LTS: IPVM public report (docs/research/kb-sources.md §3.2, seen 2026-11-24).
IPVM_OEM = Source(url="https://ipvm.com/reports/6438", title="IPVM: Hikvision OEM directory", date="2026-11-24")
# Lorex sold by FLIR to Dahua in 2018 (docs/research/kb-sources.md §3.1, seen 2026-11-24).
LOREX_DAHUA = Source(
    url="https://www.securityinfowatch.com/video-surveillance/article/12395991/flir-sells-lorex-smb-security-business-to-dahua",
    title="FLIR sells Lorex SMB security business to Dahua",
    date="2026-11-24",
)
FCC_COVERED = Source(url="https://www.fcc.gov/supplychain/coveredlist", title="FCC Covered List", date="2026-11-24")
KEV = Source(
    url="https://www.cisa.gov/known-exploited-vulnerabilities-catalog",
    title="CISA Known Exploited Vulnerabilities",
    date="2026-11-24",
)

# Raw answers (shortened) in the form the probes store them.
HIKVISION_HTTP = (
    b'HTTP/1.1 401 Unauthorized\r\nServer: DNVRS-Webs\r\nWWW-Authenticate: Digest realm="DS-2CD2143G0-I"\r\n\r\n'
)
LTS_HTTP = b"HTTP/1.1 200 OK\r\nServer: App-webs/\r\nContent-Type: text/html\r\n\r\n<title>LTS Platinum NVR</title>"
DAHUA_DHIP = b'{"method":"client.notifyDevInfo","params":{"deviceInfo":{"DeviceType":"IPC-HDW2431T","Vendor":"Dahua"}}}'
LOREX_DHIP = b'{"method":"client.notifyDevInfo","params":{"deviceInfo":{"DeviceType":"N841","Vendor":"Lorex"}}}'
AXIS_HTTP = b"HTTP/1.1 200 OK\r\nServer: axis\r\n\r\n<title>AXIS P3245-LVE</title>"
HUAWEI_HTTP = b"HTTP/1.1 200 OK\r\nServer: HuaweiHomeGateway\r\n\r\n<title>HG8245H</title>"
BINARY_BANNER = bytes(range(256))  # a binary answer must round-trip byte for byte

# MAC prefixes are the makers' real IEEE OUIs (docs/research/oui-covered.tsv, IEEE RA listings mirrored
# 2026-05-21; docs/research/kb-sources.md for LTS 14:2F:FD and Lorex 00:1F:54); the last three octets,
# serials and firmware strings are synthetic test values.


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sample_observations(host: str) -> list[Observation]:
    payload = {
        "198.18.0.10": [("http", HIKVISION_HTTP, 80), ("hikvision-private", BINARY_BANNER, 8000)],
        "198.18.0.11": [("http", LTS_HTTP, 80)],
        "198.18.0.12": [("dhip", DAHUA_DHIP, 37810)],
        "198.18.0.13": [("dhip", LOREX_DHIP, 37810)],
        "198.18.0.20": [("http", AXIS_HTTP, 80)],
        "198.18.0.30": [("http", HUAWEI_HTTP, 80)],
    }.get(host, [("http", b"HTTP/1.1 404 Not Found\r\n\r\n", 80)])
    return [
        Observation(host=host, protocol=proto, data=data, port=port, transport="udp" if proto == "dhip" else "tcp")
        for proto, data, port in payload
    ]


def sample_identifications() -> list[Identification]:
    """Seven devices: direct and relabeled covered devices, one under review, two not covered."""
    hik_server = Evidence(
        claim="web server is Hikvision's embedded server (firmware lineage Hikvision)",
        protocol="http",
        port=80,
        field="http.header.server",
        value="DNVRS-Webs",
        rule="hikvision.http.server.webs",
        certainty=0.85,
        observation_sha256=_sha(HIKVISION_HTTP),
        sources=(NMAP_PROBES,),
    )
    lts_server = replace(hik_server, value="App-webs/", observation_sha256=_sha(LTS_HTTP))
    return [
        Identification(
            host="198.18.0.10",
            vendor="Hikvision",
            brand="Hikvision",
            covered="yes",
            regimes=("ndaa-889", "fcc-covered-list"),
            model="DS-2CD2143G0-I",
            firmware="V5.5.0 build 170725",
            kind="camera",
            cves=("CVE-2017-7921",),
            confidence=0.95,
            evidence=(
                hik_server,
                Evidence(claim="Hikvision is on the FCC Covered List", rule="kb:hikvision", sources=(FCC_COVERED,)),
                Evidence(claim="CVE-2017-7921 is known exploited", rule="kb:kev", sources=(KEV,)),
            ),
            mac="44:19:b6:00:00:10",
            serial="DS-2CD2143G0-I20170725AAWR123456789",
        ),
        Identification(
            host="198.18.0.11",
            vendor="Hikvision",
            brand="LTS",
            covered="yes",
            regimes=("ndaa-889", "fcc-covered-list"),
            model="LTN8708K-P8",
            firmware="V4.1.25",
            kind="nvr",
            confidence=0.9,
            evidence=(
                lts_server,
                Evidence(
                    claim="web title shows brand LTS",
                    protocol="http",
                    port=80,
                    field="http.title",
                    value="LTS Platinum NVR",
                    observation_sha256=_sha(LTS_HTTP),
                ),
                Evidence(claim="LTS sells relabeled Hikvision equipment", rule="kb:oem:lts", sources=(IPVM_OEM,)),
            ),
            mac="14:2f:fd:00:00:11",
        ),
        Identification(
            host="198.18.0.12",
            vendor="Dahua",
            brand="Dahua",
            covered="yes",
            regimes=("ndaa-889", "fcc-covered-list"),
            model="IPC-HDW2431T",
            firmware="2.800.0000000.6.R",
            kind="camera",
            cves=("CVE-2021-33044",),
            confidence=0.93,
            evidence=(
                Evidence(
                    claim="DHIP discovery answer says Vendor Dahua",
                    protocol="dhip",
                    port=37810,
                    field="dhip.deviceinfo.vendor",
                    value="Dahua",
                    rule="dahua.dhip.vendor",
                    certainty=0.9,
                    observation_sha256=_sha(DAHUA_DHIP),
                ),
            ),
            serial="6J0B3F2PAZ12345",
        ),
        Identification(
            host="198.18.0.13",
            vendor="Dahua",
            brand="Lorex",
            covered="yes",
            regimes=("ndaa-889",),
            model="N841",
            firmware="4.001.0000005.4.R",
            kind="nvr",
            confidence=0.8,
            evidence=(
                Evidence(
                    claim="DHIP discovery protocol is Dahua's own",
                    protocol="dhip",
                    port=37810,
                    field="dhip.form",
                    value="json",
                    rule="dahua.dhip.form",
                    certainty=0.8,
                    observation_sha256=_sha(LOREX_DHIP),
                ),
                Evidence(claim="Lorex was owned by Dahua 2018-2022", rule="kb:oem:lorex", sources=(LOREX_DAHUA,)),
            ),
            mac="00:1f:54:00:00:13",
        ),
        Identification(
            host="198.18.0.14",
            vendor="Imou",
            brand="Imou",
            covered="review",
            regimes=(),
            model="IPC-A22EP",
            kind="camera",
            confidence=0.7,
            evidence=(Evidence(claim="Imou (Hangzhou Huacheng) divested from Dahua in 2025; needs review"),),
        ),
        Identification(
            host="198.18.0.20",
            vendor="Axis",
            brand="Axis",
            covered="no",
            model="P3245-LVE",
            kind="camera",
            confidence=0.9,
            evidence=(
                Evidence(
                    claim="web server says axis",
                    protocol="http",
                    port=80,
                    field="http.header.server",
                    value="axis",
                    observation_sha256=_sha(AXIS_HTTP),
                ),
            ),
            mac="ac:cc:8e:00:00:20",
        ),
        Identification(
            host="198.18.0.30",
            vendor="Huawei",
            brand="Huawei",
            covered="yes",
            regimes=("ndaa-889", "fcc-covered-list"),
            model="HG8245H",
            kind="ont",
            confidence=0.85,
            evidence=(
                Evidence(
                    claim="web server is Huawei's home gateway",
                    protocol="http",
                    port=80,
                    field="http.header.server",
                    value="HuaweiHomeGateway",
                    observation_sha256=_sha(HUAWEI_HTTP),
                ),
            ),
            mac="00:e0:fc:00:00:30",
        ),
    ]
