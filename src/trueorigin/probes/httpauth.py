"""HTTP authentication: challenges a server sends (WWW-Authenticate) and the answers to them.

Reading challenges is part of parsing (`http.auth.scheme`, `http.realm`, `rtsp.realm`); answering them
(RFC 7616 Digest: MD5, MD5-sess, SHA-256; RFC 7617 Basic) only ever uses credentials the user supplied for
the host, never guessed ones.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from trueorigin.probes.base import Credential

_AUTH_PARAM = re.compile(r'([A-Za-z0-9_-]{1,32})[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.){0,1024})"|([^\s,"]{0,1024}))')


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # "Digest", "Basic", ...
    params: Mapping[str, str]  # lowercase parameter names


def parse_challenges(values: Iterable[str]) -> list[Challenge]:
    """WWW-Authenticate values -> challenges (one per header line; a line with two schemes is split)."""
    challenges: list[Challenge] = []
    for value in values:
        # "Digest realm=..., nonce=..., Basic realm=..." : split where a new scheme token starts
        for part in re.split(r",\s*(?=[A-Za-z][A-Za-z0-9_-]{0,31}\s+[A-Za-z0-9_-]{1,32}\s*=)", value[:4096]):
            scheme, _, rest = part.strip().partition(" ")
            if not scheme or "=" in scheme:
                if challenges:  # a parameter split off by mistake belongs to the previous challenge
                    previous = challenges[-1]
                    merged = dict(previous.params) | _auth_params(part)
                    challenges[-1] = Challenge(previous.scheme, merged)
                continue
            challenges.append(Challenge(scheme, _auth_params(rest)))
            if len(challenges) >= 16:
                return challenges
    return challenges


def _auth_params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for match in _AUTH_PARAM.finditer(text):
        value = match.group(2) if match.group(2) is not None else (match.group(3) or "")
        params.setdefault(match.group(1).lower(), value.replace('\\"', '"'))
    return params


def auth_fields(prefix: str, challenges: list[Challenge]) -> dict[str, str]:
    """`<prefix>.auth.scheme` and `<prefix>.realm` from the first (server-preferred) challenge with them."""
    fields: dict[str, str] = {}
    if challenges:
        fields[f"{prefix}.auth.scheme"] = challenges[0].scheme
    for challenge in challenges:
        realm = challenge.params.get("realm")
        if realm is not None:
            fields[f"{prefix}.realm"] = realm
            break
    return fields


_DIGEST_HASHES = {
    "md5": hashlib.md5,
    "md5-sess": hashlib.md5,
    "sha-256": hashlib.sha256,
    "sha-256-sess": hashlib.sha256,
}


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def digest_authorization(
    challenge: Challenge, method: str, uri: str, credential: Credential, cnonce: str | None = None
) -> str | None:
    """RFC 7616 Authorization header for a Digest challenge; None for algorithms we do not implement."""
    algorithm = challenge.params.get("algorithm", "MD5")
    hash_factory = _DIGEST_HASHES.get(algorithm.lower())
    if hash_factory is None:
        return None

    def digest(text: str) -> str:
        return hash_factory(text.encode("utf-8")).hexdigest()

    realm = challenge.params.get("realm", "")
    nonce = challenge.params.get("nonce", "")
    cnonce = cnonce or os.urandom(8).hex()
    nonce_count = "00000001"
    ha1 = digest(f"{credential.username}:{realm}:{credential.password}")
    if algorithm.lower().endswith("-sess"):
        ha1 = digest(f"{ha1}:{nonce}:{cnonce}")
    ha2 = digest(f"{method}:{uri}")
    qops = [q.strip() for q in challenge.params.get("qop", "").split(",") if q.strip()]
    parts = [
        f'username="{_quote(credential.username)}"',
        f'realm="{_quote(realm)}"',
        f'nonce="{_quote(nonce)}"',
        f'uri="{_quote(uri)}"',
        f"algorithm={algorithm}",
    ]
    if "auth" in qops:
        response = digest(f"{ha1}:{nonce}:{nonce_count}:{cnonce}:auth:{ha2}")
        parts += ["qop=auth", f"nc={nonce_count}", f'cnonce="{cnonce}"']
    elif not qops:
        response = digest(f"{ha1}:{nonce}:{ha2}")
    else:
        return None  # auth-int only: we never send a body, but do not pretend
    parts.append(f'response="{response}"')
    if "opaque" in challenge.params:
        parts.append(f'opaque="{_quote(challenge.params["opaque"])}"')
    return "Digest " + ", ".join(parts)


def basic_authorization(credential: Credential) -> str:
    token = base64.b64encode(f"{credential.username}:{credential.password}".encode()).decode("ascii")
    return f"Basic {token}"


def authorization_for(challenges: list[Challenge], uri: str, credential: Credential) -> str | None:
    """Answer the strongest challenge offered: Digest before Basic."""
    for challenge in challenges:
        if challenge.scheme.lower() == "digest":
            header = digest_authorization(challenge, "GET", uri, credential)
            if header is not None:
                return header
    for challenge in challenges:
        if challenge.scheme.lower() == "basic":
            return basic_authorization(credential)
    return None
