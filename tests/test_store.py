"""Store API on SQLite and on a real PostgreSQL server (same tests, parametrized by `store_url`)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, inspect, text

import pg_fixtures
import trueorigin.store
from store_samples import sample_identifications, sample_observations
from trueorigin.errors import DataError, InputError
from trueorigin.model import Identification, Observation, Status
from trueorigin.store import Store, open_store
from trueorigin.store.codec import identification_from_json
from trueorigin.store.identity import IdentityKey, find_same_device, normalize_mac
from trueorigin.store.models import Base

pytestmark = pytest.mark.xdist_group("store")
# The shared fixtures (a throwaway PostgreSQL cluster and a store URL per backend).
pg_server = pg_fixtures.pg_server
store_url = pg_fixtures.store_url


def test_migrations_build_the_model_schema_from_empty(store_url: str) -> None:
    store = open_store(store_url)
    store.close()
    engine = create_engine(store_url)
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert set(Base.metadata.tables) <= tables
    scripts = ScriptDirectory(str(Path(trueorigin.store.__file__).parent / "migrations"))
    assert [head] == list(scripts.get_heads()), "one chain of revisions, applied to its end"
    assert differences == [], "models.py and the migrations disagree"


def test_reopening_an_upgraded_store_keeps_its_data(store_url: str) -> None:
    with open_store(store_url) as store:
        scan_id = store.create_scan("network", ["198.18.0.0/24"], {"ports": [80]}, site="hq")
    with open_store(store_url) as store:
        record = store.get_scan(scan_id)
    assert record is not None
    assert (record.kind, record.targets, record.options, record.site, record.status) == (
        "network",
        ["198.18.0.0/24"],
        {"ports": [80]},
        "hq",
        "running",
    )


def test_scan_lifecycle_hosts_and_identifications(store_url: str) -> None:
    with open_store(store_url) as store:
        scan_id = store.create_scan("network", ["198.18.0.0/24"], {}, site="hq")
        idents = sample_identifications()
        for ident in idents:
            store.add_observations(scan_id, ident.host, sample_observations(ident.host))
            store.add_identification(scan_id, ident)
            store.finish_host(scan_id, ident.host)
        store.add_observations(scan_id, "198.18.0.99", [])  # started, never finished
        store.finish_scan(scan_id)
        assert store.done_hosts(scan_id) == {i.host for i in idents}
        assert [i.to_json() for i in store.identifications(scan_id)] == [i.to_json() for i in idents]
        record = store.require_scan(scan_id)
        assert (record.status, record.hosts_done, record.identifications) == ("complete", len(idents), len(idents))
        assert record.finished_at is not None
        assert store.latest_scan_id() == scan_id


def test_observations_round_trip_byte_for_byte_and_verify(store_url: str) -> None:
    with open_store(store_url) as store:
        scan_id = store.create_scan("network", ["198.18.0.10"], {})
        timed_out = Observation("198.18.0.10", "banner", b"", port=23, status=Status.TIMEOUT, time=1.5)
        sent = [*sample_observations("198.18.0.10"), timed_out]
        store.add_observations(scan_id, "198.18.0.10", sent)
        got = store.observations(scan_id, "198.18.0.10")
        assert got == sent
        digests = store.observation_digests(scan_id)["198.18.0.10"]
        assert digests == [o.sha256 for o in sent]
        assert store.verify_digests(digests) == dict.fromkeys(digests, True)
        assert store.verify_digests(["0" * 64]) == {"0" * 64: False}
        # Tampering with the stored bytes must be detected even though the recorded hash is unchanged.
        with store.engine.begin() as connection:
            connection.execute(
                text("UPDATE observations SET data = :data WHERE sha256 = :sha"),
                {"data": b"altered", "sha": digests[0]},
            )
        assert store.verify_digests([digests[0]]) == {digests[0]: False}


def test_identification_for_the_same_host_is_replaced_not_duplicated(store_url: str) -> None:
    with open_store(store_url) as store:
        scan_id = store.create_scan("network", [], {})
        first = sample_identifications()[0]
        store.add_identification(scan_id, first)
        store.add_identification(scan_id, replace(first, firmware="V5.7.3"))
        assert [i.firmware for i in store.identifications(scan_id)] == ["V5.7.3"]
        assert len(store.findings()) == 1


def test_unknown_scan_is_an_input_error(store_url: str) -> None:
    with open_store(store_url) as store:
        with pytest.raises(InputError, match="no scan"):
            store.add_observations("nope", "198.18.0.1", [])
        with pytest.raises(InputError, match="no scan"):
            store.require_scan("nope")
        assert store.get_scan("nope") is None


@pytest.mark.parametrize(
    ("second", "same_device"),
    [
        pytest.param({"host": "198.18.0.99"}, True, id="same-mac-new-address"),
        pytest.param({"mac": None, "serial": "SN-1", "host": "198.18.0.98"}, True, id="serial-when-no-mac"),
        pytest.param({"mac": None, "serial": None}, True, id="address-when-nothing-else"),
        pytest.param({"mac": "44:19:b6:99:99:99"}, False, id="same-address-other-mac-is-a-replacement"),
        pytest.param({"mac": None, "serial": "SN-2"}, False, id="same-address-other-serial"),
    ],
)
def test_device_identity_across_scans(store_url: str, second: dict[str, str | None], same_device: bool) -> None:
    with open_store(store_url) as store:
        first_scan = store.create_scan("network", [], {}, site="hq")
        second_scan = store.create_scan("network", [], {}, site="hq")
        ident = replace(sample_identifications()[0], serial="SN-1")
        store.add_identification(first_scan, ident)
        store.add_identification(second_scan, replace(ident, **second))  # type: ignore[arg-type]
        device_a = store.device_identifications(first_scan)[0][0]
        device_b = store.device_identifications(second_scan)[0][0]
        assert (device_a == device_b) is same_device
        assert len(store.findings()) == (1 if same_device else 2)


def test_address_matches_only_within_the_same_site(store_url: str) -> None:
    with open_store(store_url) as store:
        hq = store.create_scan("network", [], {}, site="hq")
        branch = store.create_scan("network", [], {}, site="branch")
        ident = replace(sample_identifications()[2], serial=None)
        store.add_identification(hq, ident)
        store.add_identification(branch, ident)
        assert store.device_identifications(hq)[0][0] != store.device_identifications(branch)[0][0]
        assert sorted(f.site or "" for f in store.findings()) == ["branch", "hq"]


def test_findings_only_for_covered_or_review(store_url: str) -> None:
    with open_store(store_url) as store:
        scan_id = store.create_scan("network", [], {})
        for ident in sample_identifications():
            store.add_identification(scan_id, ident)
        findings = store.findings()
        assert {f.identification.covered for f in findings} == {"yes", "review"}
        assert "198.18.0.20" not in {f.identification.host for f in findings}  # Axis: not covered
        assert all(f.status == "open" for f in findings)
        history = store.history()
        assert len(history) == len(findings)
        assert all(h.from_status is None and h.to_status == "open" for h in history)


def test_removed_device_seen_again_reopens(store_url: str) -> None:
    with open_store(store_url) as store:
        first = store.create_scan("network", [], {})
        ident = sample_identifications()[0]
        store.add_identification(first, ident)
        (finding,) = store.findings()
        store.set_status([finding.id], "removed", actor="alice", reason="unplugged")
        second = store.create_scan("network", [], {})
        store.add_identification(second, ident)
        (again,) = store.findings()
        assert again.status == "open"
        assert again.last_scan_id == second
        transitions = [(h.from_status, h.to_status, h.actor) for h in store.history([finding.id])]
        assert transitions == [
            (None, "open", f"scan:{first}"),
            ("open", "removed", "alice"),
            ("removed", "open", f"scan:{second}"),
        ]


def test_sites_and_tags(store_url: str) -> None:
    with open_store(store_url) as store:
        store.add_site("hq", "Head office")
        scan_id = store.create_scan("network", [], {}, site="hq")
        store.add_identification(scan_id, sample_identifications()[0])
        (finding,) = store.findings()
        store.tag_device(finding.device_id, "lobby")
        store.tag_device(finding.device_id, "lobby")
        assert store.sites() == ["hq"]
        assert store.findings()[0].tags == ("lobby",)
        with pytest.raises(InputError):
            store.tag_device(12345, "x")


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("sqlite:////nonexistent-dir/x.db", id="missing-directory"),
        pytest.param("nosuchdb://x", id="unknown-dialect"),
    ],
)
def test_bad_urls_are_input_errors(url: str) -> None:
    with pytest.raises(InputError):
        open_store(url)


def test_plain_path_is_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    open_store(str(path)).close()
    assert path.exists()


_WRITER = textwrap.dedent(
    """
    import sys
    from store_samples import sample_identifications, sample_observations
    from trueorigin.store import open_store
    from dataclasses import replace

    store = open_store(sys.argv[1])
    scan_id = store.create_scan("network", ["198.18.0.0/24"], {})
    print(scan_id, flush=True)
    base = sample_identifications()[0]
    index = 0
    while True:  # runs until the parent kills it with SIGKILL
        host = f"198.18.1.{index % 250}" if index < 250 else f"198.18.2.{index % 250}"
        ident = replace(base, host=host, mac=None, serial=None)
        store.add_observations(scan_id, host, sample_observations("198.18.0.10"))
        store.add_identification(scan_id, ident)
        store.finish_host(scan_id, host)
        print(host, flush=True)
        index += 1
    """
)


def test_sigkill_loses_no_finished_host(store_url: str) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, store_url], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert writer.stdout is not None
        scan_id = writer.stdout.readline().strip()
        reported = [writer.stdout.readline().strip() for _ in range(25)]
        assert scan_id and all(reported), "the writer stopped before finishing 25 hosts"
    finally:
        writer.send_signal(signal.SIGKILL)  # mid-write, at whatever point it has reached
        writer.wait(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    with open_store(store_url) as store:
        done = store.done_hosts(scan_id)
        identified = {i.host for i in store.identifications(scan_id)}
        assert set(reported) <= done
        assert done <= identified  # a host is finished only after its identification was committed
        assert store.require_scan(scan_id).status == "running"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("44:19:B6:00:00:10", "44:19:b6:00:00:10", id="upper-colons"),
        pytest.param("4419-b600-0010", "44:19:b6:00:00:10", id="dashes"),
        pytest.param("4419.b600.0010", "44:19:b6:00:00:10", id="cisco-dots"),
        pytest.param("44:19:b6", None, id="too-short"),
        pytest.param("bad:ca:fe:be:ad:ed", None, id="not-hex-pairs"),
        pytest.param("ac:cc:8e:00:00:20 (Axis)", None, id="trailing-text"),
        pytest.param("", None, id="empty"),
    ],
)
def test_normalize_mac(raw: str, expected: str | None) -> None:
    assert normalize_mac(raw) == expected


def test_find_same_device_prefers_mac_over_address() -> None:
    by_address = IdentityKey.of("198.18.0.1", None, None)
    by_mac = IdentityKey.of("198.18.0.2", "44:19:b6:00:00:01", None)
    seen = IdentityKey.of("198.18.0.1", "44:19:B6:00:00:01", None)
    assert find_same_device(seen, [by_mac, by_address], lambda k: k) is by_mac


@given(
    st.dictionaries(
        st.sampled_from(["host", "covered", "vendor", "evidence", "confidence", "regimes"]),
        st.one_of(st.none(), st.text(max_size=5), st.integers(), st.lists(st.text(max_size=3))),
    )
)
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_identification_from_json_never_crashes_unexpectedly(doc: dict[str, object]) -> None:
    try:
        ident = identification_from_json(doc)
    except DataError:
        return
    assert isinstance(ident, Identification)
    assert ident.covered in ("yes", "no", "review")


def test_identification_json_round_trip() -> None:
    for ident in sample_identifications():
        assert identification_from_json(ident.to_json()).to_json() == ident.to_json()


def test_two_hosts_sharing_a_mac_in_one_scan_stay_two_devices(store_url: str) -> None:
    with open_store(store_url) as store:
        scan_id = store.create_scan("passive", [], {})
        camera, nvr = sample_identifications()[:2]
        router_mac = "00:11:22:33:44:55"  # both seen behind the same router
        store.add_identification(scan_id, replace(camera, mac=router_mac, serial=None))
        store.add_identification(scan_id, replace(nvr, mac=router_mac, serial=None))
        devices = [device for device, _ in store.device_identifications(scan_id)]
        assert len(set(devices)) == 2
        assert len(store.findings()) == 2


def test_migrations_downgrade_to_empty_and_up_again(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'down.db'}"
    open_store(url).close()
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(Path(open_store.__code__.co_filename).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == {"alembic_version"}
    engine.dispose()
    with open_store(url) as store:
        assert store.scans() == []


def test_in_memory_store_keeps_data_between_calls() -> None:
    with open_store("sqlite://") as store:
        scan_id = store.create_scan("network", [], {})
        store.add_identification(scan_id, sample_identifications()[0])
        assert len(store.identifications(scan_id)) == 1


def test_overlong_device_text_is_stored_whole_in_json(store_url: str) -> None:
    huge = "M" * 5000  # a device can claim any model name; PostgreSQL would reject it in a VARCHAR(200)
    with open_store(store_url) as store:
        scan_id = store.create_scan("network", [], {})
        ident = replace(sample_identifications()[0], model=huge, serial=huge, vendor=huge, brand=huge, kind=huge)
        store.add_observations(scan_id, ident.host, [Observation(ident.host, "x" * 100, b"y")])
        store.add_identification(scan_id, ident)
        assert store.identifications(scan_id)[0].model == huge
        assert store.findings()[0].identification.serial == huge


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(lambda s: s.create_scan("network", [], {}, site="s" * 201), id="site"),
        pytest.param(lambda s: s.add_site("s" * 201), id="add-site"),
        pytest.param(lambda s: s.set_status([], "open", actor="a" * 201), id="actor"),
        pytest.param(lambda s: s.tag_device(1, "t" * 101), id="tag"),
    ],
)
def test_overlong_user_input_is_an_input_error(tmp_path: Path, action: Callable[[Store], object]) -> None:
    with open_store(str(tmp_path / "long.db")) as store, pytest.raises(InputError, match="longer than"):
        action(store)


@given(st.text(max_size=40))
@settings(max_examples=300)
def test_normalize_mac_output_is_canonical_or_none(raw: str) -> None:
    mac = normalize_mac(raw)
    assert mac is None or re.fullmatch(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}", mac)
    if mac is not None:
        assert normalize_mac(mac) == mac


def test_finish_hosts_marks_a_batch_done_in_one_call(store_url: str) -> None:
    store = open_store(store_url)
    scan_id = store.create_scan("network", ["198.18.0.0/22"], {})
    store.add_observations(scan_id, "198.18.0.1", [])  # a host already started
    silent = [f"198.18.{i // 256}.{i % 256}" for i in range(1, 1001)]  # more than one 500-row chunk
    store.finish_hosts(scan_id, silent)
    assert store.done_hosts(scan_id) == set(silent)
    store.close()
