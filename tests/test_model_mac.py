"""The one MAC normaliser (`trueorigin.model.normalize_mac`) and every caller agreeing with it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trueorigin.knowledge.oui import mac_hex as oui_mac_hex
from trueorigin.model import normalize_mac
from trueorigin.probes import mac as mac_probe
from trueorigin.screen.normalize import mac_hex as screen_mac_hex
from trueorigin.store.identity import IdentityKey

CANONICAL = "44:19:b6:aa:bb:cc"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("44:19:b6:aa:bb:cc", id="colons"),
        pytest.param("44:19:B6:AA:BB:CC", id="upper"),
        pytest.param("44-19-b6-aa-bb-cc", id="dashes"),
        pytest.param("44 19 b6 aa bb cc", id="spaces"),
        pytest.param("44.19.b6.aa.bb.cc", id="dotted-pairs"),
        pytest.param("4419.b6aa.bbcc", id="cisco"),
        pytest.param("4419-b6aa-bbcc", id="h3c"),
        pytest.param("4419b6-aabbcc", id="hp"),
        pytest.param("4419b6aabbcc", id="bare"),
        pytest.param("0x4419B6AABBCC", id="hex-prefix"),
        pytest.param("  44-19-b6-aa-bb-cc\n", id="white-space-around"),
    ],
)
def test_accepted_forms(text: str) -> None:
    assert normalize_mac(text) == CANONICAL
    # every caller gives the same answer: parser, store identity, screening, OUI lookup
    assert mac_probe.parse_mac(text.encode(), None).fields["mac.address"] == CANONICAL
    assert IdentityKey.of("198.18.0.1", text, None).mac == CANONICAL
    assert screen_mac_hex(text) == "4419B6AABBCC"
    assert oui_mac_hex(text) == "4419B6AABBCC"


def test_single_digit_octets() -> None:
    assert normalize_mac("4:19:b6:a:b:c") == "04:19:b6:0a:0b:0c"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param(None, id="none"),
        pytest.param("44:19:b6:aa:bb", id="five-octets"),
        pytest.param("44:19-b6:aa:bb:cc", id="mixed-separators"),
        pytest.param("44:19:b6:aa:bb:cg", id="not-hex"),
        pytest.param("4419b6aabbccdd", id="too-long"),
        pytest.param("ac:cc:8e:00:00:20 (Axis)", id="trailing-text"),
        pytest.param("bad:ca:fe:be:ad:ed", id="three-digit-octet"),
        pytest.param("4419.b6aa-bbcc", id="mixed-quads"),
        pytest.param("DS-2CD2143G0", id="model-number"),
    ],
)
def test_rejected_forms(text: str | None) -> None:
    assert normalize_mac(text) is None
    assert screen_mac_hex(text) is None
    assert IdentityKey.of("198.18.0.1", text, None).mac is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789abcdefABCDEF:-. x", max_size=40))
def test_output_is_canonical_and_stable(text: str) -> None:
    mac = normalize_mac(text)
    if mac is not None:
        assert len(mac) == 17 and mac == mac.lower() and normalize_mac(mac) == mac
