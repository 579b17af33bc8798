"""Text normalization for screening: tokens on word boundaries, model numbers, MAC prefixes, FCC grantee codes.

Pure functions of strings, bounded work: every input is cut to `MAX_FIELD_CHARS` first, because inventory cells
are untrusted (a marketplace description can be megabytes of pasted HTML).
"""

from __future__ import annotations

import re

from trueorigin.model import normalize_mac
from trueorigin.names.text import MAX_FIELD_CHARS, clip, fold, is_cjk, name_key, tokens

_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
# FCC IDs: a grantee code (3 characters for codes issued before 1 May 2013, 5 characters starting with "2"
# after that) followed by the product code. 47 CFR 2.926; https://www.fcc.gov/oet/ea/fccid
_FCC_ID = re.compile(r"^\s*(2[A-Z0-9]{4}|[A-Z0-9]{3})[-\s]?([A-Z0-9][A-Z0-9\-_. ]{0,30})\s*$")
_FCC_LABEL = re.compile(r"^\s*FCC\s*ID\s*[:#]?\s*")

__all__ = [
    "MAX_FIELD_CHARS",
    "clip",
    "compact",
    "fcc_grantee_code",
    "fold",
    "is_cjk",
    "looks_like_model",
    "mac_colon",
    "mac_hex",
    "model_candidates",
    "model_variants",
    "name_key",
    "tokens",
]


def compact(text: str) -> str:
    """Model-number comparison form: upper case, letters and digits only ("DS 2CD2143G0-I" -> "DS2CD2143G0I")."""
    return _NOT_ALNUM.sub("", fold(text)).upper()


def model_variants(text: str) -> list[str]:
    """Spellings of a model number to try against model-number patterns, most faithful first.

    Catalogs write the same model as "DS-2CD2143G0-I", "DS 2CD2143G0 I", "ds2cd2143g0i" or "DS_2CD2143G0/I";
    patterns are usually written against the maker's own hyphenated spelling.
    """
    raw = clip(text).strip().upper()
    if not raw:
        return []
    variants = [raw]
    hyphenated = re.sub(r"[\s_]+", "-", raw)
    variants.append(hyphenated)
    squashed = compact(raw)
    variants.append(squashed)
    # Re-insert the hyphen after a leading letter prefix: "DS2CD2143G0I" -> "DS-2CD2143G0I", "IPC..." stays.
    prefixed = re.match(r"^([A-Z]{2,4})(\d.*)$", squashed)
    if prefixed:
        variants.append(f"{prefixed.group(1)}-{prefixed.group(2)}")
    out: list[str] = []
    for variant in variants:
        if variant and variant not in out:
            out.append(variant)
    return out


def looks_like_model(token: str) -> bool:
    """A description token that could be a model number: letters and digits mixed, 4..40 characters."""
    if not 4 <= len(token) <= 40:
        return False
    has_digit = any(ch.isdigit() for ch in token)
    has_alpha = any(ch.isalpha() and ch.isascii() for ch in token)
    return has_digit and has_alpha


_MODEL_CANDIDATE = re.compile(
    r"(?<![\w-])[A-Za-z0-9]+(?:[-/][A-Za-z0-9()]+)+(?![\w-])|(?<![\w-])[A-Za-z0-9]{4,}(?![\w-])"
)


def model_candidates(text: str, limit: int = 8) -> list[str]:
    """Model-number-looking words of a free-text description ("DS-2CD2143G0-I", "IPC-HDW2431T-AS-S2")."""
    found: list[str] = []
    for match in _MODEL_CANDIDATE.finditer(clip(text)):
        word = match.group(0).strip("-/")
        if looks_like_model(compact(word)) and word not in found:
            found.append(word)
            if len(found) >= limit:
                break
    return found


def mac_hex(text: str | None) -> str | None:
    """The 12 hex digits of a MAC address written in any common notation (`trueorigin.model.normalize_mac`),
    upper case; None if it is not one."""
    mac = normalize_mac(clip(text))
    return mac.replace(":", "").upper() if mac else None


def mac_colon(hex12: str) -> str:
    """aa:bb:cc:dd:ee:ff (the field vocabulary's MAC spelling) from 12 hex digits."""
    mac = normalize_mac(hex12)
    if mac is None:
        raise ValueError(f"not 12 hex digits: {hex12!r}")
    return mac


def fcc_grantee_code(text: str | None) -> str | None:
    """The grantee code of an FCC ID ("2ADTD-5604SD" -> "2ADTD", "QISVOG-LX9" -> "QIS"); None if not an FCC ID."""
    value = _FCC_LABEL.sub("", clip(text).upper())
    if not value or len(value) > 40:
        return None
    match = _FCC_ID.match(value)
    if not match:
        return None
    return match.group(1)
