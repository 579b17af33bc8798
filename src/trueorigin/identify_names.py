"""Free-text maker signal: a device naming its maker in a self-description no vendor rule covers.

Many devices say who made them in free text: an SNMP sysDescr ("... Huawei Technologies Co., Ltd"), a SIP
`Server`, an FTP or telnet greeting, an mDNS instance name ("HIKVISION DS-2CD2142FWD-I"), a UPnP manufacturer,
a certificate's subject organisation, a DHCP vendor class ("HUAWEI:android:...") or host name. The knowledge
base's names and aliases (Chinese names and recorded misspellings included) are looked for in these fields,
with word boundaries, and each field carries its own certainty: a sysDescr is written by the firmware, a host
name may be typed by anyone.

Guards, because free text also names makers that did *not* make the device:
- compatibility and comparison ("compatible with Hikvision", "for Dahua NVR", "Hikvision-style", "like",
  "supports", "Dahua protocol", "兼容海康"): the name is not the maker;
- dealers, integrators and resellers ("Hikvision Authorized Dealer", "Dahua partner", "... Security Store");
- names the knowledge base records as other companies (distinct names: "Shanghai Dahua Scale Factory");
- short names (ZTE, HIK, UNV) only as written, in capitals; ordinary words (Honor, Axis, Canon) only as the
  data writes them; two-letter names never, except a maker's display name written in capitals ("HP");
- a name inside another word never counts ("ZTEsoft", "BitStorm"); a CamelCase word counts only when it
  starts with the name ("HuaweiHomeGateway").

Names are found by the one shared name index (`trueorigin.names`, as `kb.names`), which also knows Chinese
names, misspellings and compatibility cues; `find_names` is the one place that calls it for device fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from trueorigin.knowledge import KnowledgeBase
from trueorigin.names import clip, fold, is_cjk, name_key, tokens

# Fields where a device describes itself in free text, and how much a maker's name there proves alone.
# Firmware-written descriptions rank high; names a user may set (host names, friendly names) rank low, so that
# one of them alone leaves a covered verdict in "review".
FIELD_CERTAINTY: Mapping[str, float] = {
    "snmp.sysdescr": 0.8,
    "upnp.manufacturer": 0.75,
    "sip.header.server": 0.75,
    "sip.header.user-agent": 0.75,
    "http.header.server": 0.7,
    "tls.subject.o": 0.7,
    "dhcp.vendor_class": 0.7,
    "banner.text": 0.65,
    "upnp.model_description": 0.6,
    "http.title": 0.6,
    "mdns.names": 0.6,
    "tls.subject.cn": 0.55,
    "mdns.hostname": 0.5,
    "upnp.friendly_name": 0.5,
    "dhcp.hostname": 0.5,
}

TargetKind = Literal["entity", "brand"]


@dataclass(frozen=True, slots=True)
class NameMention:
    """A knowledge-base name found in a text."""

    kind: TargetKind
    id: str  # entity or brand id
    alias: str  # the alias as written in the knowledge base
    found: str  # the text as written in the field
    cue: str | None  # a guard that keeps the mention from saying who made the device

    @property
    def is_maker_claim(self) -> bool:
        return self.cue is None


# ---------------------------------------------------------------------------------------------------- guards

# Guards for device self-descriptions, beyond the compatibility cues of the shared name index
# (names/data/text-rules.yaml): dealers, integrators and resellers naming the brand they sell, styles,
# protocols and emulation modes naming the maker a device imitates.
_CUES_BEFORE: tuple[tuple[str, ...], ...] = (
    ("connected", "to"),
    ("with",),
    ("via",),
    ("emulates",),
    ("emulating",),
    ("dealer",),
    ("distributor",),
    ("reseller",),
    ("partner",),
    ("integrator",),
    ("installer",),
)
_CUES_AFTER = frozenset(
    {"style", "styled", "type", "like", "protocol", "protocols", "sdk", "emulation", "mode", "authorized",
     "authorised", "certified", "dealer", "dealers", "distributor", "distributors", "reseller", "resellers",
     "partner", "partners", "integrator", "integrators", "installer", "installers", "store", "shop", "academy",
     "training", "trained"}
)  # fmt: skip
# Words that may stand between a cue and the name it governs ("for most Hikvision and Dahua NVRs").
_CONNECTORS = frozenset(
    {"and", "or", "the", "a", "an", "all", "any", "most", "other", "your", "existing", "select", "e", "g", "eg",
     "nvr", "nvrs", "dvr", "dvrs", "ip", "camera", "cameras", "onvif", "brand", "brands", "&"}
)  # fmt: skip

_CJK_CUES_AFTER = ("协议", "兼容", "经销", "代理", "授权")  # protocol, compatible, dealer, agent, authorised

_CAMEL_HEAD = re.compile(r"\b([A-Z][a-z]{2,}|[A-Z]{3,})(?=[A-Z][a-z])")
_SHORT = 3  # names of this many letters or fewer count only written as the data writes them, in capitals


def _split_camel_heads(kb: KnowledgeBase, text: str) -> str:
    """ "HuaweiHomeGateway" -> "Huawei HomeGateway" when the first hump is a name; "BitStorm" stays whole, so a
    name never counts inside another word."""
    return _CAMEL_HEAD.sub(lambda m: m.group(1) + " " if kb.names.is_name(name_key(m.group(1))) else m.group(1), text)


def _written_in_capitals(alias: str, text: str) -> bool:
    return alias.isupper() and re.search(rf"(?<![^\W_]){re.escape(alias)}(?![a-z0-9])", text) is not None


def _extra_cue(words: list[str], start: int, end: int) -> str | None:
    """Device-field guards beyond the index's compatibility cues: dealers, styles, protocols, emulation."""
    ahead = end
    while ahead < len(words) and ahead - end <= 2:  # "Hikvision-style", "Dahua ONVIF emulation"
        if words[ahead] in _CUES_AFTER:
            return words[ahead]
        if words[ahead] not in _CONNECTORS and words[ahead] != "s":
            break
        ahead += 1
    position, skipped = start, 0
    while position > 0 and skipped <= 4:
        for cue in _CUES_BEFORE:
            size = len(cue)
            if position - size >= 0 and tuple(words[position - size : position]) == cue:
                return " ".join(cue)
        if words[position - 1] not in _CONNECTORS:
            return None
        position -= 1
        skipped += 1
    return None


def find_names(kb: KnowledgeBase, text: str) -> list[NameMention]:
    """Every knowledge-base name in `text` (the shared name index, `kb.names.find`), each with the guard that
    keeps it from naming the device's maker, if any. The one place where device fields are matched to names."""
    text = clip(text)
    prepared = _split_camel_heads(kb, text)
    words = tokens(prepared)
    mentions: list[NameMention] = []
    seen: set[tuple[str, str]] = set()
    for mention in kb.names.find(prepared):
        target = mention.target
        if target.kind not in ("entity", "brand"):
            continue
        letters = len(name_key(target.alias).replace(" ", ""))
        if not is_cjk(target.alias.replace(" ", "")) and letters <= _SHORT:
            display = target.kind == "entity" and (entity := kb.entity(target.id)) is not None and entity.name
            if letters < 2 or (letters == 2 and target.alias != display):
                continue  # "DH" names too many things; a maker shown as "HP" is allowed
            if not _written_in_capitals(target.alias, prepared):
                continue  # "zte" in lower case is a word fragment, "ZTE" the maker
        cue = mention.compat_cue
        if cue is None and is_cjk(words[mention.start] if mention.start < len(words) else ""):
            run = words[mention.start]
            at = run.find(fold(target.alias))
            after = run[at + len(target.alias) :] if at >= 0 else ""
            cue = next((c for c in _CJK_CUES_AFTER if after.startswith(c)), None)
        cue = cue or _extra_cue(words, mention.start, mention.end)
        key = (target.kind, target.id)
        if key in seen:
            continue
        seen.add(key)
        found = " ".join(words[mention.start : mention.end])
        kind: TargetKind = "entity" if target.kind == "entity" else "brand"
        mentions.append(NameMention(kind, target.id, target.alias, found, cue))
    return mentions


def maker_claims(kb: KnowledgeBase, field: str, text: str) -> list[NameMention]:
    """Names in a self-description field that claim to be the device's maker (guards applied)."""
    if field not in FIELD_CERTAINTY or not text.strip():
        return []
    return [m for m in find_names(kb, text) if m.is_maker_claim]
