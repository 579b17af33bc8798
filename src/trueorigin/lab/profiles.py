"""Device profiles: what each simulated device family answers, as data with its sources.

A profile is one YAML file in `lab/profiles/`. It says which TCP and UDP ports the device has, and for each
protocol the exact bytes to answer, written as templates (`${model}`, `${serial}`, ...) that the site
generator fills per host. Every answer names the public source it was taken from (`source:` keys into the
profile's `sources:` table) and how faithful it is (`fidelity`):

- `verbatim`: copied from a published capture (curl -v output, packet dump, nmap/recog example) with only
  the per-device values (serial, MAC, address, nonce, date) replaced;
- `pattern`: built to match a published signature (an nmap `match` line, a recog pattern) whose exact
  capture is not public;
- `spec`: the structure a protocol specification prescribes, values from the device's documented identity;
- `unverified`: a behaviour we could not source; kept minimal and named as such.

An OEM relabel `extends` its maker's profile and overrides only what the relabel changes (brand, models,
titles, ONVIF manufacturer), so the maker's firmware signals stay as they are on real relabeled devices.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from trueorigin.errors import DataError
from trueorigin.model import PRODUCT_KINDS

TCP_SERVICES = ("http", "https", "rtsp", "silent", "banner", "private")
UDP_SERVICES = ("sadp", "dhip", "wsd", "ssdp", "mdns", "snmp", "silent")
HOSTILE_BEHAVIOURS = ("slow", "endless-body", "malformed", "xml-bomb", "wrong-length", "reset")
FIDELITY = ("verbatim", "pattern", "spec", "unverified")
KINDS = PRODUCT_KINDS
# Taken from the knowledge base (the `vendor` entity), never written in a profile.
FROM_KNOWLEDGE_BASE = ("vendor_name", "covered")


@dataclass(frozen=True, slots=True)
class Profile:
    """One device family, fully merged with the profile it extends."""

    id: str
    description: str
    vendor: str | None  # knowledge-base entity id of the true manufacturer, None for generic hosts
    vendor_name: str | None  # the entity's display name in the knowledge base
    covered: str  # the entity's coverage in the knowledge base ("no" for generic hosts)
    kind: str
    brand: str | None  # brand on the label
    models: tuple[str, ...]
    firmwares: tuple[str, ...]
    mac_prefixes: tuple[str, ...]
    tcp: Mapping[int, str]
    udp: Mapping[int, str]
    data: Mapping[str, Any]  # the whole merged document (responses, vars, http routes, ...)
    hostile: Mapping[str, str] = field(default_factory=dict)
    # brand the device's answers display; None when its firmware shows only generic names (e.g. "General")
    brand_shown: str | None = None

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.data.get(name) or {}
        if not isinstance(value, Mapping):
            raise DataError(f"profile {self.id}: {name} must be a mapping")
        return value

    @property
    def responses(self) -> Mapping[str, Any]:
        return self.section("responses")


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else (lists included) is replaced by the override."""
    merged: dict[str, Any] = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _raw_documents() -> dict[str, dict[str, Any]]:
    documents: dict[str, dict[str, Any]] = {}
    folder = resources.files("trueorigin.lab") / "profiles"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        try:
            doc = yaml.safe_load(entry.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise DataError(f"lab profile {entry.name}: invalid YAML: {exc}") from exc
        if not isinstance(doc, dict) or "id" not in doc:
            raise DataError(f"lab profile {entry.name}: a mapping with an 'id' is required")
        if doc["id"] in documents:
            raise DataError(f"lab profile id {doc['id']!r} defined twice")
        documents[str(doc["id"])] = doc
    return documents


def _resolve(profile_id: str, documents: Mapping[str, dict[str, Any]], seen: tuple[str, ...] = ()) -> dict[str, Any]:
    if profile_id in seen:
        raise DataError(f"lab profile {profile_id}: 'extends' loops through {' -> '.join(seen)}")
    doc = documents.get(profile_id)
    if doc is None:
        raise DataError(f"lab profile {seen[-1] if seen else '?'} extends unknown profile {profile_id!r}")
    parent_id = doc.get("extends")
    if not parent_id:
        return copy.deepcopy(doc)
    parent = _resolve(str(parent_id), documents, (*seen, profile_id))
    parent.pop("abstract", None)
    return _deep_merge(parent, doc)


def _ports(doc: Mapping[str, Any], key: str, allowed: tuple[str, ...], profile_id: str) -> dict[int, str]:
    table = doc.get(key) or {}
    ports: dict[int, str] = {}
    for port, service in dict(table).items():
        if service is None:  # an OEM can remove a port its maker has
            continue
        if not isinstance(port, int) or not 0 < port < 65536 or service not in allowed:
            raise DataError(f"lab profile {profile_id}: {key} port {port!r} -> {service!r} is not valid")
        ports[port] = str(service)
    return ports


def _check_sources(doc: Mapping[str, Any], profile_id: str) -> None:
    """Every response must cite a source of the profile and state its fidelity."""
    sources = doc.get("sources") or {}
    for name, response in (doc.get("responses") or {}).items():
        if not isinstance(response, Mapping):
            raise DataError(f"lab profile {profile_id}: response {name} must be a mapping")
        if response.get("fidelity") not in FIDELITY:
            raise DataError(f"lab profile {profile_id}: response {name} needs fidelity in {FIDELITY}")
        cited = response.get("source")
        cited_list = cited if isinstance(cited, list) else [cited]
        if response.get("fidelity") != "unverified" and not cited:
            raise DataError(f"lab profile {profile_id}: response {name} has no source")
        for key in cited_list:
            if key and key not in sources:
                raise DataError(f"lab profile {profile_id}: response {name} cites unknown source {key!r}")


def _check_private(doc: Mapping[str, Any], tcp: Mapping[int, str], profile_id: str) -> None:
    """A `private` port lists the documented client messages it answers and which response each gets."""
    responses = doc.get("responses") or {}
    section = doc.get("private") or {}
    for port, service in tcp.items():
        if service != "private":
            continue
        rules = section.get(str(port)) if isinstance(section, Mapping) else None
        if not isinstance(rules, list) or not rules:
            raise DataError(f"lab profile {profile_id}: private port {port} needs a list of documented requests")
        for rule in rules:
            try:
                request = bytes.fromhex(str(rule["request_hex"]))
            except (KeyError, TypeError, ValueError):
                raise DataError(f"lab profile {profile_id}: private port {port}: bad request_hex") from None
            if not request or rule.get("respond") not in responses:
                raise DataError(
                    f"lab profile {profile_id}: private port {port}: unknown response {rule.get('respond')!r}"
                )


def _vendor(doc: Mapping[str, Any], pid: str) -> tuple[str | None, str | None, str]:
    """(entity id, display name, coverage) of the profile's maker, from the knowledge base."""
    written = [key for key in FROM_KNOWLEDGE_BASE if key in doc]
    if written:
        raise DataError(f"lab profile {pid}: {', '.join(written)} come from the knowledge base; name only `vendor`")
    vendor = doc.get("vendor")
    if vendor is None:
        return None, None, "no"
    from trueorigin.knowledge import load

    kb = load()
    entity = kb.entity(str(vendor))
    if entity is None:
        raise DataError(f"lab profile {pid}: vendor {vendor!r} is not an entity of the knowledge base")
    return entity.id, entity.name, kb.coverage(entity.id)[0]


def _build(doc: dict[str, Any]) -> Profile:
    pid = str(doc["id"])
    vendor, vendor_name, covered = _vendor(doc, pid)
    kind = str(doc.get("kind", "unknown"))
    if kind not in KINDS:
        raise DataError(f"lab profile {pid}: unknown kind {kind!r}")
    hostile = {str(k): str(v) for k, v in (doc.get("hostile") or {}).items()}
    for behaviour in hostile.values():
        if behaviour not in HOSTILE_BEHAVIOURS:
            raise DataError(f"lab profile {pid}: unknown hostile behaviour {behaviour!r}")
    _check_sources(doc, pid)
    models = tuple(str(m) for m in doc.get("models") or ())
    firmwares = tuple(str(f) for f in doc.get("firmwares") or ())
    prefixes = tuple(str(p).upper() for p in doc.get("mac_prefixes") or ())
    if not models or not firmwares or not prefixes:
        raise DataError(f"lab profile {pid}: models, firmwares and mac_prefixes are required")
    for prefix in prefixes:
        if len(prefix.split(":")) != 3:
            raise DataError(f"lab profile {pid}: MAC prefix {prefix!r} must be three octets")
    tcp = _ports(doc, "tcp", TCP_SERVICES, pid)
    _check_private(doc, tcp, pid)
    return Profile(
        id=pid,
        description=str(doc.get("description", "")),
        vendor=vendor,
        vendor_name=vendor_name,
        covered=covered,
        kind=kind,
        brand=doc.get("brand"),
        models=models,
        firmwares=firmwares,
        mac_prefixes=prefixes,
        tcp=tcp,
        udp=_ports(doc, "udp", UDP_SERVICES, pid),
        data=doc,
        hostile=hostile,
        brand_shown=doc["brand_shown"] if "brand_shown" in doc else doc.get("brand"),
    )


@cache
def load_profiles() -> dict[str, Profile]:
    """All concrete (non-abstract) profiles by id, validated."""
    documents = _raw_documents()
    profiles: dict[str, Profile] = {}
    for pid, doc in documents.items():
        if doc.get("abstract"):
            continue
        profiles[pid] = _build(_resolve(pid, documents))
    return profiles


def get_profile(profile_id: str) -> Profile:
    try:
        return load_profiles()[profile_id]
    except KeyError:
        raise DataError(f"unknown lab profile {profile_id!r}") from None
