"""Every key a parser emits is declared by its module (`FIELDS` / `FIELD_FAMILIES`, or the shared `device.*`),
and the fingerprint field vocabulary is exactly the union of those declarations."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from trueorigin import probes
from trueorigin.fingerprints import load_rules
from trueorigin.fingerprints.vocabulary import declared_fields, is_known_field
from trueorigin.probes.base import DEVICE_FIELDS

RESPONSES = Path(__file__).parent / "data" / "responses"
# fixture directories -> the protocols their files are answers of
FIXTURE_PROTOCOLS = {
    "banner": ("banner",),
    "dhcp": ("dhcp-vendor-class",),
    "dhip": ("dhip",),
    "http": ("http",),
    "mac": ("mac",),
    "mdns": ("mdns",),
    "onvif-device-info": ("onvif-device-info",),
    "rtsp": ("rtsp",),
    "sadp": ("sadp",),
    "snmp": ("snmp-sysdescr", "snmp-sysobjectid", "snmp-object"),
    "ssdp": ("ssdp",),
    "tls-cert": ("tls-cert",),
    "vendorports": ("hikvision-private", "dahua-private"),
    "ws-discovery": ("ws-discovery",),
}
# requests under which a fixture may be read (the favicon hash needs a favicon request)
REQUESTS = (None, "GET /", "GET /favicon.ico", "DESCRIBE rtsp://h/", "get 1.3.6.1.4.1.40297.1.2.4.1.0")
# Real answers replayed beside the fixtures: nmap XML and an asset record (imported records).
NMAP_SERVICE = (Path(__file__).parent / "data" / "passive" / "nmap-hikvision.xml").read_bytes()


def _module_of() -> dict[str, ModuleType]:
    return {protocol: module for module in probes.modules() for protocol in getattr(module, "PARSERS", {})}


def _emitted() -> dict[str, set[str]]:
    """module name -> every key its parsers emitted on the fixtures and the fingerprints' raw examples."""
    parsers, module_of = probes.parsers(), _module_of()
    out: dict[str, set[str]] = {}

    def record(protocol: str, data: bytes, request: str | None) -> None:
        parsed = parsers[protocol](data, request)
        if parsed.ok:
            out.setdefault(module_of[protocol].__name__, set()).update(parsed.fields)

    for directory, protocols in FIXTURE_PROTOCOLS.items():
        for path in sorted((RESPONSES / directory).iterdir()):
            if path.name.endswith(".yaml"):
                continue
            for protocol in protocols:
                for request in REQUESTS:
                    record(protocol, path.read_bytes(), request)
    for rule in load_rules():
        for example in rule.examples:
            if example.raw is not None and example.protocol in parsers:
                record(example.protocol, example.raw, example.request)
    record("asset-record", b'{"brand": "LTS", "model": "LTN8716", "http_title": "x", "mac": "x"}', None)
    return out


EMITTED = _emitted()


def test_every_parser_module_was_exercised() -> None:
    with_parsers = {m.__name__ for m in probes.modules() if getattr(m, "PARSERS", None)}
    assert with_parsers - set(EMITTED) <= {"trueorigin.probes.imported"}, "a parser module ran on no fixture"


@pytest.mark.parametrize("module", [pytest.param(m, id=m.__name__.rsplit(".", 1)[1]) for m in probes.modules()])
def test_module_declares_every_key_it_emits(module: ModuleType) -> None:
    fields = set(getattr(module, "FIELDS", ())) | set(DEVICE_FIELDS)
    families = tuple(getattr(module, "FIELD_FAMILIES", ()))
    undeclared = sorted(
        key
        for key in EMITTED.get(module.__name__, set())
        if key not in fields and not any(key.startswith(f) and len(key) > len(f) for f in families)
    )
    assert undeclared == [], f"{module.__name__} emits keys it does not declare"


def test_vocabulary_is_the_union_of_the_declarations() -> None:
    fields, families = declared_fields()
    declared = set(DEVICE_FIELDS).union(*(getattr(m, "FIELDS", ()) for m in probes.modules()))
    assert set(fields) == declared
    assert set(families) == set().union(*(getattr(m, "FIELD_FAMILIES", ()) for m in probes.modules()))
    assert is_known_field("mac.locally_administered") and not is_known_field("mac.locally")
    assert not is_known_field("snmp.community")  # never emitted, never matched


def test_rules_use_only_declared_keys() -> None:
    assert [r.id for r in load_rules() if not is_known_field(r.field)] == []
