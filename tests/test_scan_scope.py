"""The scan touches only what the user named: every notation of an address is judged as the host it names.

Regression tests for the scope defects of the hardening issue: IPv4-mapped IPv6 walking around the public
check, exclusions that lost across notations, huge IPv6 blocks crashing, resumes that scanned other addresses
or silently dropped credentials, and target or credential files echoed back into the terminal.
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trueorigin.errors import InputError, SafetyError, TrueOriginError
from trueorigin.scan.credentials import load_credentials, parse_credentials
from trueorigin.scan.run import ScanRequest, run_scan
from trueorigin.scan.targets import parse_targets

CLI = "import sys; from trueorigin.cli import main; sys.argv[0] = 'trueorigin'; main()"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CLI, *args], capture_output=True, text=True, check=False, timeout=60)


# --- the notations that name an IPv4 host, written independently of the code under test ---
def mapped(v4: str) -> str:
    return f"::ffff:{v4}"


def mapped_hex(v4: str) -> str:
    value = int(ipaddress.IPv4Address(v4))
    return f"::ffff:{value >> 16:x}:{value & 0xFFFF:x}"


def compatible(v4: str) -> str:
    return f"::{v4}"


def siit(v4: str) -> str:
    return f"::ffff:0:{v4}"


def nat64(v4: str) -> str:
    return f"64:ff9b::{v4}"


def sixtofour(v4: str) -> str:
    value = int(ipaddress.IPv4Address(v4))
    return f"2002:{value >> 16:x}:{value & 0xFFFF:x}::1"


NOTATIONS = {
    "plain": lambda v4: v4,
    "mapped": mapped,
    "mapped-hex": mapped_hex,
    "compatible": compatible,
    "siit": siit,
    "nat64": nat64,
    "6to4": sixtofour,
}


@pytest.mark.parametrize("notation", [pytest.param(n, id=n) for n in NOTATIONS])
@pytest.mark.parametrize("public", [pytest.param("8.8.8.8", id="google-dns"), pytest.param("1.1.1.1", id="one")])
def test_public_ipv4_refused_in_every_notation(notation: str, public: str) -> None:
    spec = NOTATIONS[notation](public)
    with pytest.raises(SafetyError, match="allow-public"):
        parse_targets([spec])
    assert parse_targets([spec], allow_public=True).count() == 1


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param("::ffff:8.8.8.0/120", id="mapped-block"),
        pytest.param("::ffff:198.17.255.250-::ffff:198.18.0.5", id="mapped-range-leaking-into-public"),
        pytest.param("64:ff9b::808:800/120", id="nat64-block"),
        pytest.param("2002:808:808::/120", id="6to4-block"),
    ],
)
def test_public_blocks_refused_in_embedded_notations(spec: str) -> None:
    with pytest.raises(SafetyError, match="allow-public"):
        parse_targets([spec], max_hosts=2**20)


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param("2001::1", id="teredo"),
        pytest.param("2001:0:4136:e378:8000:63bf:3fff:fdd2", id="teredo-rfc4380-example"),
        pytest.param("64:ff9b:1::c612:1", id="nat64-local-use"),
    ],
)
def test_forms_that_hide_their_ipv4_host_are_refused_even_with_the_flag(spec: str) -> None:
    with pytest.raises(SafetyError, match="name the IPv4 host"):
        parse_targets([spec], allow_public=True)


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param("::ffff:224.0.0.251", id="mapped-multicast"),
        pytest.param("::ffff:255.255.255.255", id="mapped-broadcast"),
        pytest.param("64:ff9b::e000:fb", id="nat64-multicast"),
        pytest.param("::/0", id="everything"),
        pytest.param("ff02::1", id="ipv6-multicast"),
    ],
)
def test_non_unicast_refused_in_every_notation(spec: str) -> None:
    with pytest.raises(SafetyError, match="not a unicast scan target"):
        parse_targets([spec], allow_public=True, max_hosts=None)


@pytest.mark.parametrize("target_form", [pytest.param(n, id=f"target-{n}") for n in NOTATIONS])
@pytest.mark.parametrize("exclude_form", [pytest.param(n, id=f"exclude-{n}") for n in NOTATIONS])
def test_exclusion_wins_across_notations(target_form: str, exclude_form: str) -> None:
    named = NOTATIONS[target_form]
    targets = parse_targets([named("198.18.8.90"), named("198.18.8.91")], [NOTATIONS[exclude_form]("198.18.8.91")])
    assert targets.count() == 1
    (left,) = list(targets)
    assert named_ipv4(left) == "198.18.8.90"


def test_mapped_targets_are_scanned_as_the_ipv4_host_they_are() -> None:
    assert list(parse_targets(["::ffff:198.18.0.7", "198.18.0.7"])) == ["198.18.0.7"]
    assert "::ffff:198.18.0.7" in parse_targets(["198.18.0.7"])


def test_hostname_resolving_to_a_mapped_public_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::ffff:8.8.8.8", 0, 0, 0))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *_a, **_k: answers)
    with pytest.raises(SafetyError, match=r"8\.8\.8\.8.*allow-public"):
        parse_targets(["camera.example"])
    allowed = parse_targets(["camera.example"], allow_public=True)
    assert list(allowed) == ["8.8.8.8"] and allowed.hostnames == {"8.8.8.8": "camera.example"}


@pytest.mark.parametrize(
    ("specs", "kwargs", "error"),
    [
        pytest.param(["2001:db8::/64"], {}, InputError, id="doc-slash64-over-limit"),
        pytest.param(["fd00::/8"], {}, InputError, id="ula-slash8-over-limit"),
        pytest.param(["::/0"], {"allow_public": True, "max_hosts": 2**200}, SafetyError, id="everything"),
        pytest.param(["2001:db8::/32"], {"max_hosts": 2**200}, None, id="confirmed-huge-block"),
    ],
)
def test_huge_ipv6_blocks_give_a_clear_answer_not_an_overflow(
    specs: list[str], kwargs: dict[str, Any], error: type[Exception] | None
) -> None:
    if error is None:
        assert parse_targets(specs, **kwargs).count() == 2**96
        return
    with pytest.raises(error):
        parse_targets(specs, **kwargs)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["::ffff:8.8.8.8"], id="mapped-public"),
        pytest.param(["::ffff:8.8.8.0/120"], id="mapped-public-block"),
        pytest.param(["2001:db8::/64"], id="huge-ipv6"),
        pytest.param(["::/0", "--allow-public"], id="everything"),
    ],
)
def test_cli_refuses_out_of_scope_targets_with_one_line(args: list[str], tmp_path: Path) -> None:
    result = cli("scan", *args, "--no-udp", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "OverflowError" not in result.stderr
    assert result.stderr.count("\n") <= 3, result.stderr


def test_target_file_of_zeros_is_refused_in_a_short_message(tmp_path: Path) -> None:
    result = cli("scan", "@/dev/zero", "--no-udp", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 2
    assert "/dev/zero" in result.stderr and len(result.stderr) < 1000


def test_long_specs_are_clipped_in_errors() -> None:
    with pytest.raises(InputError) as caught:
        parse_targets(["x" * 100_000])
    assert len(str(caught.value)) < 300


# --- property: no target set, in any notation, yields a public address without the flag, or an excluded one ---
def named_ipv4(address: str) -> str | None:
    """The IPv4 host an address names, by the standard library and the RFCs' layouts; None if it names none."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        return str(ip.sixtofour)
    value = int(ip)
    low32 = ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if ip in ipaddress.ip_network("64:ff9b::/96") or ip in ipaddress.ip_network("::ffff:0:0:0/96"):
        return str(low32)
    if 2**24 <= value < 2**32:  # IPv4-compatible, as the code defines its zone (::1.0.0.0 up)
        return str(low32)
    return None


def is_public(address: str) -> bool:
    """Python's own registry of special-purpose blocks, applied to the IPv4 host named if there is one."""
    v4 = named_ipv4(address)
    ip = ipaddress.ip_address(v4 if v4 is not None else address)
    return ip.is_global


# around the edges of special-purpose blocks, so both sides of each boundary come up
EDGES = [
    "9.255.255.254", "10.0.0.1", "11.0.0.1", "100.63.255.255", "100.64.0.1", "126.255.255.255", "127.0.0.1",
    "128.0.0.1", "169.254.1.1", "172.15.255.255", "172.16.0.5", "172.32.0.1", "192.0.2.9", "192.88.99.1",
    "192.167.255.255", "192.168.1.1", "198.17.255.254", "198.18.0.1", "198.19.255.255", "198.20.0.1",
    "203.0.113.5", "8.8.8.8",
]  # fmt: skip

addresses_v4 = st.one_of(
    st.sampled_from(EDGES),
    st.integers(min_value=0, max_value=2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n))),
)
notation = st.sampled_from(sorted(NOTATIONS))


@st.composite
def spec_in_some_notation(draw: st.DrawFn) -> str:
    v4 = draw(addresses_v4)
    form = NOTATIONS[draw(notation)]
    span = draw(st.integers(min_value=0, max_value=6))
    if span == 0 or form is sixtofour:
        return form(v4)
    last = str(ipaddress.IPv4Address(min(int(ipaddress.IPv4Address(v4)) + span, 2**32 - 1)))
    return f"{form(v4)}-{form(last)}"


def spec_members(spec: str) -> list[str]:
    first, _, last = spec.partition("-")
    if not last:
        return [str(ipaddress.ip_address(first))]
    a, b = int(ipaddress.ip_address(first)), int(ipaddress.ip_address(last))
    version = ipaddress.ip_address(first).version
    return [str(ipaddress.ip_address(n) if version == 6 else ipaddress.IPv4Address(n)) for n in range(a, b + 1)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(spec_in_some_notation(), min_size=1, max_size=4), st.lists(spec_in_some_notation(), max_size=4))
def test_no_notation_reaches_a_public_or_excluded_address(targets: list[str], excluded: list[str]) -> None:
    try:
        result = parse_targets(targets, excluded, max_hosts=4096)
    except TrueOriginError:
        return
    excluded_hosts = {named_ipv4(a) or a for spec in excluded for a in spec_members(spec)}
    excluded_exact = {a for spec in excluded for a in spec_members(spec)}
    for address in result:
        assert not is_public(address), address
        assert address not in excluded_exact, address
        assert (named_ipv4(address) or address) not in excluded_hosts, address


# --- resume is tied to the scan it resumes ---
def _silent_block() -> str:
    # loopback addresses where nothing listens: the scan finishes fast and touches nothing else
    return "127.213.77"


def _request(targets: list[str], credentials: Path | None = None, **options: Any) -> ScanRequest:
    request = ScanRequest(targets=targets, ports=(9,), timeout=0.2, credentials_path=credentials, **options)
    request.udp_discovery = False
    return request


def _credentials(path: Path, password: str) -> Path:
    path.write_text(f"- targets: [127.0.0.0/8]\n  username: admin\n  password: {password}\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def started(tmp_path: Path) -> dict[str, Any]:
    block = _silent_block()
    target_file = tmp_path / "targets.txt"
    target_file.write_text(f"{block}.1\n{block}.2\n", encoding="utf-8")
    creds = _credentials(tmp_path / "creds.yaml", "s3cret-one")
    db = f"sqlite:///{tmp_path / 'scan.db'}"
    outcome = run_scan(_request([f"@{target_file}"], creds), db_url=db)
    return {"db": db, "scan": outcome.scan_id, "file": target_file, "creds": creds, "block": block, "tmp": tmp_path}


def test_resume_with_the_same_scope_is_accepted(started: dict[str, Any]) -> None:
    again = run_scan(None, db_url=started["db"], resume=started["scan"], credentials_path=started["creds"])
    assert again.skipped_hosts == 2 and again.stats.hosts_done == 0


def test_resume_refuses_an_edited_target_file(started: dict[str, Any]) -> None:
    started["file"].write_text(f"{started['block']}.1\n{started['block']}.9\n", encoding="utf-8")
    with pytest.raises(InputError, match="resolve to other addresses"):
        run_scan(None, db_url=started["db"], resume=started["scan"], credentials_path=started["creds"])


def test_resume_refuses_missing_or_other_credentials(started: dict[str, Any]) -> None:
    with pytest.raises(InputError, match="give the same file again"):
        run_scan(None, db_url=started["db"], resume=started["scan"])
    other = _credentials(started["tmp"] / "other.yaml", "s3cret-two")
    with pytest.raises(InputError, match="not the one it was started with") as caught:
        run_scan(None, db_url=started["db"], resume=started["scan"], credentials_path=other)
    assert "s3cret" not in str(caught.value)


def test_resume_refuses_options_named_differently(started: dict[str, Any]) -> None:
    with pytest.raises(InputError, match="ports was"):
        run_scan(
            None,
            db_url=started["db"],
            resume=started["scan"],
            credentials_path=started["creds"],
            resume_options={"ports": [80]},
        )


def test_stored_scan_keeps_no_secret_and_records_its_scope(started: dict[str, Any]) -> None:
    from trueorigin.store import open_store

    with open_store(started["db"]) as store:
        record = store.get_scan(started["scan"])
    assert record is not None
    assert record.options["targets_resolved"] == [f"{started['block']}.1-{started['block']}.2"]
    assert "s3cret" not in repr(record.options)


def test_cli_resume_with_a_different_option_is_refused(started: dict[str, Any]) -> None:
    result = cli(
        "scan", "--resume", started["scan"], "--credentials", str(started["creds"]), "--ports", "80",
        "--db", started["db"],
    )  # fmt: skip
    assert result.returncode == 2 and "refusing to resume" in result.stderr


# --- credentials files ---
def test_credentials_csv_with_an_unterminated_quote_is_refused() -> None:
    text = 'targets,username,password\n127.0.0.1,admin,"hunter2\n'
    with pytest.raises(InputError, match="not valid CSV") as caught:
        parse_credentials(text, "csv")
    assert "hunter2" not in str(caught.value)


def test_shifted_password_column_is_neither_resolved_nor_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[object] = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **_k: looked_up.append(a) or [])
    text = "targets,username,password\nhunter2-secret,127.0.0.1,admin\n"
    with pytest.raises(InputError) as caught:
        parse_credentials(text, "csv")
    assert "hunter2" not in str(caught.value) and looked_up == []


def test_credentials_row_with_more_cells_than_the_header_is_refused() -> None:
    text = "targets,username,password\n127.0.0.1,admin,pass,word\n"
    with pytest.raises(InputError, match="more cells than the header") as caught:
        parse_credentials(text, "csv")
    assert "word" not in str(caught.value)


@pytest.mark.parametrize(
    ("mode", "warned"),
    [pytest.param(0o600, False, id="private"), pytest.param(0o644, True, id="world-readable")],
)
def test_credentials_file_readable_by_others_is_warned_about(tmp_path: Path, mode: int, warned: bool) -> None:
    path = _credentials(tmp_path / "creds.yaml", "s3cret")
    path.chmod(mode)
    book = load_credentials(path)
    assert bool(book.warnings) is warned
    assert all("s3cret" not in w for w in book.warnings)
