"""Real services for the sites tests: a RabbitMQ virtual host and a PostgreSQL database on the machine's own
servers (127.0.0.1), one of each per test, removed afterwards; plus lab sites and the processes of a
deployment (ingest worker, sensors) started and killed by their process ids.

The machine starts PostgreSQL on 5432 and RabbitMQ on 5672 before every session (the python-svc kind);
without them these tests skip locally and fail under CI.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from needs import require, require_tool
from trueorigin.lab.site import LabSite, can_use_namespace

PG_HOST, PG_PORT = "127.0.0.1", 5432
RABBIT_PORT = 5672
CLI = "import sys; from trueorigin.cli import main; sys.argv[0] = 'trueorigin'; main()"


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def rabbitmqctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, check=check, timeout=120)


@pytest.fixture
def broker_url() -> Iterator[str]:
    """amqp://guest@127.0.0.1/<a fresh vhost>, deleted after the test."""
    require_tool("rabbitmqctl", install="apt-get install rabbitmq-server")
    require(_listening(RABBIT_PORT), "RabbitMQ is not listening on 127.0.0.1:5672")
    vhost = f"trueorigin-t{os.getpid()}-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        yield f"amqp://guest:guest@127.0.0.1:{RABBIT_PORT}/{vhost}"
    finally:
        rabbitmqctl("delete_vhost", vhost, check=False)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL (trust auth), dropped after the test."""
    psql = require_tool("psql", install="apt-get install postgresql-client")
    require(_listening(PG_PORT), "PostgreSQL is not listening on 127.0.0.1:5432")
    name = f"t_sites_{uuid.uuid4().hex[:12]}"
    base = [psql, "-h", PG_HOST, "-p", str(PG_PORT), "-U", "postgres", "-d", "postgres", "-q", "-c"]
    subprocess.run([*base, f'CREATE DATABASE "{name}"'], check=True, capture_output=True, timeout=60)
    try:
        yield f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        subprocess.run([*base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True, timeout=60)


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CLI, *args], capture_output=True, text=True, check=False, timeout=timeout,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


@dataclass
class Deployment:
    """Processes of one deployment, each killed by its pid at the end (or by the test, to prove recovery)."""

    broker: str
    db: str
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the process's life
        process = subprocess.Popen(
            [sys.executable, "-c", CLI, *args], stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            env={**os.environ, "TRUEORIGIN_BROKER": self.broker, "TRUEORIGIN_DB": self.db},
            start_new_session=True,
        )  # fmt: skip
        self.processes[name] = process
        return process

    def worker(self, name: str = "worker", concurrency: int = 1) -> subprocess.Popen[bytes]:
        return self.start(name, "worker", "--concurrency", str(concurrency), "--name", name)

    def sensor(self, name: str, site: str, lab: LabSite, *extra: str) -> subprocess.Popen[bytes]:
        """A sensor with the site owner's logins (read by the sensor, never sent to the centre)."""
        credentials = site_credentials(lab, self.logs / f"{site}-credentials.json")
        return self.start(
            name, "sensor", "--site", site, "--name", name, "--lab-netns", lab.namespace,
            "--credentials", str(credentials), *extra,
        )  # fmt: skip

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(name)
        os.killpg(process.pid, sig)  # the whole group: a prefork worker's children too
        process.wait(30)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return cli(*args, env={"TRUEORIGIN_BROKER": self.broker, "TRUEORIGIN_DB": self.db}, timeout=timeout)

    def close(self) -> None:
        for name in list(self.processes):
            try:
                self.kill(name, signal.SIGTERM)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill(name, signal.SIGKILL)


@pytest.fixture
def deployment(broker_url: str, pg_url: str, tmp_path: Path) -> Iterator[Deployment]:
    deployed = Deployment(broker_url, pg_url, tmp_path)
    try:
        yield deployed
    finally:
        deployed.close()


def site_credentials(lab: LabSite, path: Path) -> Path:
    """The logins and SNMP communities the lab's owner holds, as `--credentials` reads them; nothing guessed."""
    entries = []
    for host in lab.manifest["hosts"]:
        entry: dict[str, object] = {"targets": [host["address"]]}
        if host.get("credentials"):
            entry |= {"username": host["credentials"][0]["username"], "password": host["credentials"][0]["password"]}
        if host.get("snmp_community"):
            entry["snmp_community"] = host["snmp_community"]
        if len(entry) > 1:
            entries.append(entry)
    path.write_text(json.dumps({"credentials": entries}), encoding="utf-8")
    path.chmod(0o600)
    return path


LabFactory = Callable[..., LabSite]


@pytest.fixture
def lab_factory(tmp_path: Path) -> Iterator[LabFactory]:
    """Start lab sites in namespaces of their own (same CIDR allowed: each site is its own network)."""
    require(can_use_namespace(), "the device lab needs root and iproute2 (`ip`) to create a network namespace")
    started: list[LabSite] = []

    def make(label: str, hosts: int = 12, seed: int = 7, mix: str = "default", cidr: str = "198.18.0.0/16") -> LabSite:
        namespace = f"to-site-{label}-{os.getpid()}-{uuid.uuid4().hex[:4]}"[:40]
        site = LabSite(
            hosts=hosts, seed=seed, mix=mix, cidr=cidr, namespace=namespace, state_dir=tmp_path / f"lab-{label}"
        )
        site.up()
        started.append(site)
        return site

    try:
        yield make
    finally:
        for site in started:
            site.down()


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
