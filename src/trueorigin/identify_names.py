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
- short names (ZTE, HIK, UNV) only as written, in capitals; ordinary words (Honor, Axis, Canon) only
  capitalised; two-letter names never, except a maker's display name written in capitals ("HP").

All name finding goes through `find_names` so that the shared name index can replace the matching in one place.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from trueorigin.knowledge import KnowledgeBase

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

# Words before a name that make it something other than the maker (a compatibility or comparison mention).
_CUES_BEFORE: tuple[tuple[str, ...], ...] = (
    ("compatible", "with"),
    ("compatible", "to"),
    ("compatible",),
    ("compatibility", "with"),
    ("works", "with"),
    ("work", "with"),
    ("interoperable", "with"),
    ("integrates", "with"),
    ("integration", "with"),
    ("connect", "to"),
    ("connects", "to"),
    ("connected", "to"),
    ("replacement", "for"),
    ("replaces",),
    ("instead", "of"),
    ("alternative", "to"),
    ("similar", "to"),
    ("like",),
    ("vs",),
    ("versus",),
    ("for",),
    ("supports",),
    ("support",),
    ("supporting",),
    ("with",),
    ("via",),
    ("emulates",),
    ("emulating",),
    ("not",),
    ("non",),
    ("no",),
    ("dealer",),
    ("distributor",),
    ("reseller",),
    ("partner",),
    ("integrator",),
    ("installer",),
)
# Words right after a name that do the same ("Hikvision-style", "Dahua protocol", "Hikvision Authorized Dealer").
_CUES_AFTER = frozenset(
    {
        "compatible",
        "compatibility",
        "style",
        "styled",
        "type",
        "like",
        "protocol",
        "protocols",
        "sdk",
        "emulation",
        "mode",
        "free",
        "alternative",
        "replacement",
        "authorized",
        "authorised",
        "certified",
        "dealer",
        "dealers",
        "distributor",
        "distributors",
        "reseller",
        "resellers",
        "partner",
        "partners",
        "integrator",
        "integrators",
        "installer",
        "installers",
        "store",
        "shop",
        "academy",
        "training",
        "trained",
    }
)
# Words that may stand between a cue and the name it governs ("for most Hikvision and Dahua NVRs").
_CONNECTORS = frozenset(
    {"and", "or", "the", "a", "an", "all", "any", "most", "other", "your", "existing", "select", "e", "g", "eg",
     "nvr", "nvrs", "dvr", "dvrs", "ip", "camera", "cameras", "onvif", "brand", "brands", "&"}
)  # fmt: skip
_CJK_CUES_BEFORE = ("兼容", "适用于", "适用", "适配", "支持", "对接", "配套", "用于", "替代", "代替", "类似")
_CJK_CUES_AFTER = ("协议", "兼容", "经销", "代理", "授权")

# Ordinary words that are also makers' names: only capitalised ("Honor", "AXIS") do they name the maker.
_ORDINARY_WORDS = frozenset({"honor", "canon", "axis", "aruba", "andy", "storm", "ura", "holis", "ens", "general"})

_TOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z][a-z]+|[a-z]+|\d+|[\u3400-\u9fff\uf900-\ufaff]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LEGAL_WORDS = frozenset(
    {"co", "ltd", "limited", "inc", "corp", "corporation", "company", "llc", "plc", "gmbh", "sa", "sau", "bv", "ag"}
)
_MAX_TEXT = 4096  # a self-description longer than this is cut: bounded work on hostile input


@dataclass(frozen=True, slots=True)
class _Alias:
    words: tuple[str, ...]  # casefolded tokens
    written: tuple[str, ...]  # tokens as written in the knowledge base
    alias: str
    kind: TargetKind
    id: str
    strict_case: bool  # short names: found only exactly as written
    capitalised: bool  # ordinary words: found only with a capital


@dataclass(frozen=True, slots=True)
class _Lexicon:
    by_first: dict[str, list[_Alias]]  # first casefolded word -> aliases starting with it
    cjk: tuple[tuple[str, _Alias], ...]  # Han-character aliases, longest first
    distinct: tuple[tuple[str, ...], ...]  # names of other companies, as casefolded token tuples


def _tokens(text: str) -> list[str]:
    """Words as written: runs of letters (CamelCase parts apart), digits, Han characters."""
    folded = unicodedata.normalize("NFKC", text)
    return _TOKEN.findall(folded)


def _build_alias(name: str, kind: TargetKind, target: str, display: bool) -> _Alias | None:
    written = tuple(_tokens(name))
    if not written:
        return None
    words = tuple(w.casefold() for w in written)
    significant = [w for w in words if w not in _LEGAL_WORDS]
    if not significant:
        return None
    letters = sum(len(w) for w in words)
    if letters < 2 or (letters == 2 and not (display and name.isupper())):
        return None  # "DH" names too many things; a maker shown as "HP" is allowed
    strict = letters <= 3
    capitalised = len(words) == 1 and words[0] in _ORDINARY_WORDS
    return _Alias(words, written, name, kind, target, strict, capitalised)


@lru_cache(maxsize=4)
def _lexicon(kb: KnowledgeBase) -> _Lexicon:
    by_first: dict[str, list[_Alias]] = {}
    cjk: list[tuple[str, _Alias]] = []
    entries: list[tuple[TargetKind, str, str, Iterable[str]]] = []
    for entity in kb.entities.values():
        entries.append(("entity", entity.id, entity.name, (*entity.legal_names, *entity.aliases)))
    for brand in kb.brands.values():
        entries.append(("brand", brand.id, brand.name, brand.aliases))
    for kind, target, display, others in entries:
        for name, is_display in ((display, True), *((other, False) for other in others)):
            if _CJK.search(name):
                key = "".join(ch for ch in unicodedata.normalize("NFKC", name) if _CJK.match(ch))
                if len(key) >= 2:
                    cjk.append((key, _Alias((key,), (key,), name, kind, target, False, False)))
                continue
            alias = _build_alias(name, kind, target, is_display)
            if alias is not None:
                by_first.setdefault(alias.words[0], []).append(alias)
    for aliases in by_first.values():
        aliases.sort(key=lambda a: -len(a.words))
    distinct = tuple(tuple(w.casefold() for w in _tokens(d.name)) for d in kb.raw.distinct_names)
    cjk.sort(key=lambda item: -len(item[0]))
    return _Lexicon(by_first, tuple(cjk), tuple(d for d in distinct if d))


def _case_ok(alias: _Alias, found: list[str]) -> bool:
    if alias.strict_case:
        return all(f == w for f, w in zip(found, alias.written, strict=True)) and "".join(found).isupper()
    if alias.capitalised:
        return found[0][:1].isupper()
    return True


def _cue(words: list[str], start: int, end: int, is_name: set[int]) -> str | None:
    ahead = end
    while ahead < len(words) and ahead - end <= 2:  # "Hikvision compatible", "Dahua ONVIF emulation"
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
        if words[position - 1] in _CONNECTORS or (position - 1) in is_name:
            position -= 1
            skipped += 1
            continue
        return None
    return None


def find_names(kb: KnowledgeBase, text: str) -> list[NameMention]:
    """Every knowledge-base name in `text` on word boundaries, longest first, each with its guard (if any).

    The one place where names are matched: swap the body for the shared name index when it lands.
    """
    lexicon = _lexicon(kb)
    folded = unicodedata.normalize("NFKC", text[:_MAX_TEXT])
    spans = [(m.group(), m.start()) for m in _TOKEN.finditer(folded)]
    written = [token for token, _ in spans]
    words = [w.casefold() for w in written]
    # A name starts a word: "HuaweiHomeGateway" names Huawei, "BitStorm" does not name Storm.
    starts_word = [at == 0 or not folded[at - 1].isalnum() for _, at in spans]
    taken: set[int] = set()
    for name in lexicon.distinct:  # words of another company's name name nobody we look for
        n = len(name)
        for i in range(len(words) - n + 1):
            if tuple(words[i : i + n]) == name:
                taken.update(range(i, i + n))
    found: list[tuple[int, int, _Alias]] = []
    i = 0
    while i < len(words):
        hit: _Alias | None = None
        if i not in taken:
            for alias in lexicon.by_first.get(words[i], ()):
                n = len(alias.words)
                if (
                    tuple(words[i : i + n]) == alias.words
                    and _case_ok(alias, written[i : i + n])
                    and (starts_word[i] or _CJK.match(written[i]) is not None)
                ):
                    hit = alias
                    break
        if hit is not None:
            found.append((i, i + len(hit.words), hit))
            i += len(hit.words)
        else:
            i += 1
    name_positions = {p for start, end, _ in found for p in range(start, end)}
    mentions: list[NameMention] = []
    seen: set[tuple[str, str]] = set()
    for start, end, alias in found:
        if (alias.kind, alias.id) in seen:
            continue
        seen.add((alias.kind, alias.id))
        cue = _cue(words, start, end, name_positions)
        mentions.append(NameMention(alias.kind, alias.id, alias.alias, " ".join(written[start:end]), cue))
    for index, run in enumerate(written):
        if not _CJK.match(run):
            continue
        taken_spans: list[tuple[int, int]] = []
        for key, alias in lexicon.cjk:
            position = run.find(key)
            while position >= 0:
                span = (position, position + len(key))
                if not any(a < span[1] and span[0] < b for a, b in taken_spans):
                    taken_spans.append(span)
                    before, after = run[: span[0]], run[span[1] :]
                    cue = next((c for c in _CJK_CUES_BEFORE if before.endswith(c)), None)
                    cue = cue or next((c for c in _CJK_CUES_AFTER if after.startswith(c)), None)
                    cue = cue or _cue(words, index, index + 1, name_positions)
                    if (alias.kind, alias.id) not in seen:
                        seen.add((alias.kind, alias.id))
                        mentions.append(NameMention(alias.kind, alias.id, alias.alias, key, cue))
                position = run.find(key, position + 1)
    return mentions


def maker_claims(kb: KnowledgeBase, field: str, text: str) -> list[NameMention]:
    """Names in a self-description field that claim to be the device's maker (guards applied)."""
    if field not in FIELD_CERTAINTY or not text.strip():
        return []
    return [m for m in find_names(kb, text) if m.is_maker_claim]
