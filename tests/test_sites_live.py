"""Sites end to end on the machine's real RabbitMQ and PostgreSQL, with lab sites in network namespaces.

Sensors stay in the host's namespace (they reach the broker on 127.0.0.1) and scan inside their site's lab
namespace (`--lab-netns`), so no packet leaves 127.0.0.0/8 or the namespaces these tests create.
"""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

import pytest
from kombu.connection import Connection

from sites_fixtures import CLI, Deployment, LabFactory, rabbitmqctl, site_credentials, wait_for
from trueorigin.lab.site import LabSite
from trueorigin.sites.broker import INGEST, ingest_routing_key, sensor_user
from trueorigin.sites.service import Sites
from trueorigin.store import FindingFilter, open_store

pytestmark = [pytest.mark.lab, pytest.mark.xdist_group("sites-live")]


def addresses(lab: LabSite) -> list[str]:
    return [h["address"] for h in lab.manifest["hosts"]]


def covered_addresses(lab: LabSite) -> set[str]:
    return {h["address"] for h in lab.manifest["hosts"] if h["covered"] == "yes"}


def scanned_directly(lab: LabSite, deployment: Deployment) -> set[str]:
    """The covered hosts a plain `trueorigin scan` of the same lab finds, with the same logins: what the
    distributed pipeline must find too, neither losing a host nor inventing one."""
    credentials = site_credentials(lab, deployment.logs / "direct-credentials.json")
    result = lab.run(
        [sys.executable, "-c", CLI, "scan", *addresses(lab), "--timeout", "1", "--credentials", str(credentials),
         "--json", "--db", f"sqlite:///{deployment.logs / 'direct.db'}"],
        capture_output=True, timeout=600,
    )  # fmt: skip
    assert result.returncode in (0, 1, 3), result.stderr.decode(errors="replace")[-2000:]
    lines = [json.loads(line) for line in result.stdout.decode().splitlines() if line.strip()]
    return {line["host"] for line in lines if line["covered"] == "yes"}


def job_record(deployment: Deployment, job_id: str) -> dict[str, Any]:
    with open_store(deployment.db) as store:
        return Sites(store).require_job(job_id).to_json()


def start_audit(deployment: Deployment, site: str, lab: LabSite, *extra: str) -> str:
    result = deployment.cli("sites", "audit", site, *addresses(lab), "--timeout", "1", *extra)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def wait_job(deployment: Deployment, job_id: str, timeout: float = 240) -> dict[str, Any]:
    wait_for(lambda: job_record(deployment, job_id)["status"] not in ("queued", "running"), timeout, f"job {job_id}")
    return job_record(deployment, job_id)


def test_two_sites_with_the_same_addresses_are_audited_apart(deployment: Deployment, lab_factory: LabFactory) -> None:
    # 12 devices in a /28 (14 addresses) at each site: most addresses exist at both sites, as other devices
    north = lab_factory("north", seed=7, cidr="198.18.7.0/28", mix="covered-heavy")
    south = lab_factory("south", seed=11, cidr="198.18.7.0/28", mix="covered-heavy")
    assert set(addresses(north)) & set(addresses(south)), "the labs must overlap for this test to mean anything"
    for site in ("north", "south"):
        assert deployment.cli("sites", "add", site).returncode == 0
    deployment.worker()
    deployment.sensor("north-1", "north", north)
    deployment.sensor("south-1", "south", south)
    jobs = {"north": start_audit(deployment, "north", north), "south": start_audit(deployment, "south", south)}
    for site, job_id in jobs.items():
        record = wait_job(deployment, job_id)
        assert record["status"] == "complete", (record, deployment.log("worker")[-3000:])
        assert record["hosts_done"] == len(addresses(north if site == "north" else south))
    with open_store(deployment.db) as store:
        for site, lab in (("north", north), ("south", south)):
            found = {f.identification.host for f in store.findings(FindingFilter(site=site, covered="yes"))}
            assert found == covered_addresses(lab), site
        # one address, two sites: two devices, each with its own site's identification
        shared = set(addresses(north)) & set(addresses(south))
        scans = {site: job_record(deployment, job_id)["scan_id"] for site, job_id in jobs.items()}
        devices = {
            site: dict((i.host, d) for d, i in store.device_identifications(scan)) for site, scan in scans.items()
        }
        for address in shared:
            assert devices["north"][address] != devices["south"][address], address
        sensors = Sites(store).sensors()
    assert {(s.site, s.name) for s in sensors} == {("north", "north-1"), ("south", "south-1")}
    assert all(s.healthy() and s.version for s in sensors)


def test_a_sensor_killed_mid_audit_loses_no_host_and_counts_none_twice(
    deployment: Deployment, lab_factory: LabFactory
) -> None:
    lab = lab_factory("crash", hosts=30, seed=7, mix="covered-heavy")
    assert deployment.cli("sites", "add", "crash").returncode == 0
    deployment.worker()
    deployment.sensor("first", "crash", lab)
    # two hosts at a time, slowly: hosts finish one after another, so the kill lands mid-audit
    job_id = start_audit(deployment, "crash", lab, "--rate", "15", "--concurrency", "2")
    wait_for(lambda: job_record(deployment, job_id)["hosts_done"] > 0, 180, "the first batch")
    deployment.kill("first")  # SIGKILL: the job's message was never acknowledged
    assert job_record(deployment, job_id)["status"] == "running"
    deployment.sensor("second", "crash", lab)
    record = wait_job(deployment, job_id)
    assert record["status"] == "complete" and record["hosts_done"] == len(addresses(lab))
    assert record["sensor"].startswith("second/")
    with open_store(deployment.db) as store:
        idents = store.identifications(record["scan_id"])
        hosts = [i.host for i in idents]
        assert len(hosts) == len(set(hosts)), "a host identified twice"
        findings = store.findings(FindingFilter(site="crash", covered="yes"))
    assert {f.identification.host for f in findings} == scanned_directly(lab, deployment)


def test_an_ingest_worker_killed_mid_batch_is_replaced_without_loss(
    deployment: Deployment, lab_factory: LabFactory
) -> None:
    lab = lab_factory("ingest", hosts=16, seed=7, mix="covered-heavy")
    assert deployment.cli("sites", "add", "ingest").returncode == 0
    deployment.worker("w1")
    deployment.sensor("s", "ingest", lab)
    job_id = start_audit(deployment, "ingest", lab, "--rate", "10", "--concurrency", "2")
    wait_for(lambda: job_record(deployment, job_id)["hosts_done"] > 0, 180, "the first ingested batch")
    deployment.kill("w1")
    deployment.worker("w2")
    record = wait_job(deployment, job_id)
    assert record["status"] == "complete" and record["hosts_done"] == len(addresses(lab))
    with open_store(deployment.db) as store:
        findings = store.findings(FindingFilter(site="ingest", covered="yes"))
    assert {f.identification.host for f in findings} == scanned_directly(lab, deployment)


def test_cancel_stops_a_running_audit(deployment: Deployment, lab_factory: LabFactory) -> None:
    lab = lab_factory("cancel", hosts=60, seed=7)
    assert deployment.cli("sites", "add", "cancel").returncode == 0
    deployment.worker()
    deployment.sensor("s", "cancel", lab)
    job_id = start_audit(deployment, "cancel", lab, "--rate", "5", "--concurrency", "2")
    wait_for(lambda: job_record(deployment, job_id)["hosts_done"] > 0, 180, "the audit to start")
    assert deployment.cli("sites", "cancel", job_id).returncode == 0
    record = wait_job(deployment, job_id, timeout=120)
    assert record["status"] == "cancelled" and record["hosts_done"] < len(addresses(lab))


@pytest.fixture
def sensor_accounts(deployment: Deployment) -> dict[str, str]:
    """A RabbitMQ user per site, provisioned by the CLI; removed afterwards."""
    vhost = deployment.broker.rsplit("/", 1)[1]
    urls = {}
    for site in ("red", "blue"):
        assert deployment.cli("sites", "add", site).returncode == 0
        password = f"pw-{site}-sensor"
        provision = deployment_cli_with_stdin(deployment, password, "sites", "provision", site, "--vhost", vhost)
        assert provision.returncode == 0, provision.stderr
        assert password not in provision.stdout + provision.stderr
        urls[site] = f"amqp://{sensor_user(site)}:{password}@127.0.0.1:5672/{vhost}"
    yield urls
    for site in urls:
        rabbitmqctl("delete_user", sensor_user(site), check=False)


def deployment_cli_with_stdin(deployment: Deployment, text: str, *args: str) -> Any:
    import os
    import subprocess
    import sys

    from sites_fixtures import CLI

    return subprocess.run(
        [sys.executable, "-c", CLI, *args], input=text + "\n", capture_output=True, text=True, check=False,
        timeout=120, env={**os.environ, "TRUEORIGIN_BROKER": deployment.broker, "TRUEORIGIN_DB": deployment.db},
    )  # fmt: skip


def _refused(action: Any) -> bool:
    try:
        action()
    except Exception as exc:  # amqp's AccessRefused (403) or a closed channel
        return "403" in str(exc) or "ACCESS_REFUSED" in str(exc) or "access" in str(exc).lower()
    return False


def test_each_sensor_reads_only_its_own_site_and_publishes_only_as_itself(
    deployment: Deployment, sensor_accounts: dict[str, str]
) -> None:
    red = sensor_accounts["red"]

    def consume(queue: str) -> None:
        with Connection(red, connect_timeout=10) as connection:
            connection.default_channel.basic_get(queue)

    def publish(routing_key: str) -> None:
        with Connection(red, connect_timeout=10, transport_options={"confirm_publish": True}) as connection:
            connection.Producer().publish({"x": 1}, exchange=INGEST, routing_key=routing_key, declare=[])

    # its own queues and its own routing key are allowed ...
    consume("trueorigin.site.red")
    publish(ingest_routing_key("red"))
    # ... another site's work, another site's identity, and declaring anything are not
    assert _refused(lambda: consume("trueorigin.site.blue"))
    assert _refused(lambda: consume("trueorigin.control.blue"))
    assert _refused(lambda: consume("trueorigin.ingest"))
    assert _refused(lambda: publish(ingest_routing_key("blue")))

    def declare() -> None:
        with Connection(red, connect_timeout=10) as connection:
            connection.default_channel.queue_declare("trueorigin.site.red-extra")

    assert _refused(declare)


def test_a_sensor_with_its_own_account_completes_an_audit(
    deployment: Deployment, sensor_accounts: dict[str, str], lab_factory: LabFactory
) -> None:
    lab = lab_factory("red", hosts=10, seed=7)
    deployment.worker()
    deployment.start("red-sensor", "sensor", "--site", "red", "--name", "red-sensor", "--lab-netns", lab.namespace,
                     "--broker", sensor_accounts["red"])  # fmt: skip
    job_id = start_audit(deployment, "red", lab)
    record = wait_job(deployment, job_id)
    assert record["status"] == "complete", deployment.log("red-sensor")[-3000:]
    assert record["hosts_done"] == len(addresses(lab))


def test_sigterm_is_a_clean_stop(deployment: Deployment, lab_factory: LabFactory) -> None:
    lab = lab_factory("stop", hosts=4)
    assert deployment.cli("sites", "add", "stop").returncode == 0
    deployment.sensor("s", "stop", lab)
    deployment.worker()
    wait_for(lambda: "heartbeat" in json.dumps(_sensor_rows(deployment)) or bool(_sensor_rows(deployment)), 60,
             "the sensor's first heartbeat")  # fmt: skip
    deployment.kill("s", signal.SIGTERM)


def _sensor_rows(deployment: Deployment) -> list[dict[str, Any]]:
    result = deployment.cli("sites", "sensors", "--json")
    return json.loads(result.stdout) if result.returncode == 0 else []
