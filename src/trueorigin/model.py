"""Core types shared by every stage of the pipeline.

probe -> Observation -> parse -> Parsed fields -> fingerprint Match -> Identification -> finding (store)

Observations hold facts only (what a device sent, byte for byte). Everything after them is a pure
function of (observations, knowledge-base version), so the store can re-identify when the data changes.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

Covered = Literal["yes", "no", "review"]
COVERED_VALUES: tuple[Covered, ...] = ("yes", "no", "review")

# Product kinds shared by fingerprints, knowledge base, lab and outputs (docs/ARCHITECTURE.md).
PRODUCT_KINDS: tuple[str, ...] = (
    "camera",
    "ptz",
    "thermal",
    "nvr",
    "dvr",
    "xvr",
    "intercom",
    "access-control",
    "router",
    "ont",
    "switch",
    "radio",
    "printer",
    "server",
    "workstation",
    "nas",
    "unknown",
)


class Status(StrEnum):
    """Closed vocabulary of what happened when a probe ran (zgrab2-style)."""

    OK = "ok"
    TIMEOUT = "io-timeout"
    REFUSED = "connection-refused"
    PROTOCOL_ERROR = "protocol-error"
    UNPARSEABLE = "unparseable"
    TRUNCATED = "truncated"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a fact comes from: a URL or repository path, its title and the date it was seen or published."""

    url: str
    title: str = ""
    date: str = ""

    def to_json(self) -> dict[str, str]:
        return {"url": self.url, "title": self.title, "date": self.date}


@dataclass(frozen=True, slots=True)
class Target:
    """One address the user named (never chosen by trueorigin itself)."""

    address: str
    port: int | None = None
    hostname: str | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """Exactly what one host sent in answer to one request, plus where and when.

    `data` is the raw answer: a whole HTTP/RTSP response, a PEM or DER certificate, a UDP payload,
    a DNS message, a MAC address as text, a banner. `request` says what was asked when that matters
    (an HTTP request line such as "GET /ISAPI/System/deviceInfo", an RTSP method).
    """

    host: str
    protocol: str
    data: bytes
    port: int | None = None
    request: str | None = None
    transport: str = "tcp"
    status: Status = Status.OK
    time: float = field(default_factory=time.time)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """The offline contract line (`trueorigin identify` input), lossless for binary data."""
        try:
            text = self.data.decode("utf-8")
            data, encoding = text, "text"
        except UnicodeDecodeError:
            data, encoding = base64.b64encode(self.data).decode("ascii"), "base64"
        out: dict[str, Any] = {"host": self.host, "protocol": self.protocol, "data": data, "encoding": encoding}
        if self.port is not None:
            out["port"] = self.port
        if self.request is not None:
            out["request"] = self.request
        if self.transport != "tcp":
            out["transport"] = self.transport
        if self.status != Status.OK:
            out["status"] = str(self.status)
        return out


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a protocol parser extracted from one answer.

    `fields` uses dotted keys that fingerprints address (`http.header.server`, `rtsp.realm`,
    `onvif.scope.name`, ...). Multi-valued facts are joined with "\\n". `ok` is False with an
    `error` when the bytes were not a valid message of that protocol; such results carry no fields.
    """

    protocol: str
    fields: Mapping[str, str]
    ok: bool = True
    error: str | None = None

    @staticmethod
    def unparseable(protocol: str, error: str) -> Parsed:
        return Parsed(protocol=protocol, fields={}, ok=False, error=error)


@dataclass(frozen=True, slots=True)
class Match:
    """One fingerprint rule that matched one parsed field."""

    rule_id: str
    field: str
    value: str
    attributes: Mapping[str, str]
    certainty: float
    description: str = ""
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    """One step of an evidence chain: an observation, what it showed, and the rule or record that says so."""

    claim: str  # e.g. "firmware family is Hikvision", "brand Acme is a Hikvision OEM"
    protocol: str | None = None  # observation it rests on (None for pure knowledge steps)
    port: int | None = None
    field: str | None = None
    value: str | None = None
    rule: str | None = None  # fingerprint rule id or knowledge record id
    certainty: float | None = None
    observation_sha256: str | None = None
    sources: tuple[Source, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"claim": self.claim}
        for key in ("protocol", "port", "field", "value", "rule", "certainty", "observation_sha256"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["sources"] = [s.to_json() for s in self.sources]
        return out


@dataclass(frozen=True, slots=True)
class Identification:
    """Who really made one host, keeping the brand it shows apart from its true manufacturer."""

    host: str
    vendor: str | None  # true origin: manufacturer of hardware/firmware, covered or not
    brand: str | None  # brand the device shows (ONVIF, web title, SSDP ...)
    covered: Covered
    regimes: tuple[str, ...] = ()
    model: str | None = None
    firmware: str | None = None
    kind: str | None = None  # camera, nvr, dvr, router, ont, radio, printer, server ...
    cves: tuple[str, ...] = ()
    confidence: float = 0.0
    evidence: tuple[Evidence, ...] = ()
    conflicts: tuple[str, ...] = ()
    mac: str | None = None
    serial: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The output contract shared by identify, scan, passive and import (`--json`)."""
        out: dict[str, Any] = {
            "host": self.host,
            "vendor": self.vendor,
            "brand": self.brand,
            "covered": self.covered,
            "regimes": list(self.regimes),
            "model": self.model,
            "firmware": self.firmware,
            "kind": self.kind,
            "cves": list(self.cves),
            "confidence": round(self.confidence, 3),
            "evidence": [e.to_json() for e in self.evidence],
        }
        if self.conflicts:
            out["conflicts"] = list(self.conflicts)
        if self.mac is not None:
            out["mac"] = self.mac
        if self.serial is not None:
            out["serial"] = self.serial
        return out


RemediationStatus = Literal["open", "scheduled", "replaced", "removed", "waived"]


# MAC addresses (EUI-48) as people and devices write them. One normaliser for the whole tool: parsers, store,
# screening and the knowledge base's OUI lookup all call `normalize_mac`.
MAX_MAC_TEXT = 128
# 44:19:b6:aa:bb:cc and BSD 4:19:b6:a:b:c; Cisco 4419.b6aa.bbcc and H3C 4419-b6aa-bbcc; HP 4419b6-aabbcc
_MAC_PAIRS = re.compile(r"^[0-9a-f]{1,2}([:\-. ])[0-9a-f]{1,2}(?:\1[0-9a-f]{1,2}){4}$")
_MAC_QUADS = re.compile(r"^([0-9a-f]{4})([.\-])([0-9a-f]{4})\2([0-9a-f]{4})$")
_MAC_HALVES = re.compile(r"^([0-9a-f]{6})-([0-9a-f]{6})$")
_MAC_BARE = re.compile(r"^(?:0x)?([0-9a-f]{12})$")


def normalize_mac(text: str | None) -> str | None:
    """Any common notation of an EUI-48 -> `aa:bb:cc:dd:ee:ff` (lower case, colon separated); None when `text`
    is not one MAC address (wrong length, mixed separators, trailing text, not hex).

    Accepted: `44:19:B6:AA:BB:CC`, `44-19-b6-aa-bb-cc`, `44 19 b6 aa bb cc`, `44.19.b6.aa.bb.cc`, single-digit
    octets `4:19:b6:a:b:c` (BSD `arp -a`), `4419.b6aa.bbcc` (Cisco), `4419-b6aa-bbcc` (H3C), `4419b6-aabbcc`
    (HP), `4419b6aabbcc`, `0x4419b6aabbcc`, with white space around.
    """
    if not text:
        return None
    candidate = text.strip().lower()[:MAX_MAC_TEXT]
    digits: str | None = None
    if found := _MAC_PAIRS.match(candidate):
        digits = "".join(part.zfill(2) for part in candidate.split(found.group(1)))
    elif found := _MAC_QUADS.match(candidate):
        digits = found.group(1) + found.group(3) + found.group(4)
    elif found := _MAC_HALVES.match(candidate):
        digits = found.group(1) + found.group(2)
    elif found := _MAC_BARE.match(candidate):
        digits = found.group(1)
    if digits is None or len(digits) != 12:
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))
