"""Sites at scale: N lab sites, one sensor each, W ingest workers, on this machine's RabbitMQ and PostgreSQL.

For each ingest-worker count it measures the end-to-end time from dispatching every site's audit to the last
job complete, and observations ingested per second; the peer, measured in the same run, is one plain
`trueorigin scan` per site run one after another on the same labs (what a single operator would do).

    python bench/sites.py --sites 20 --hosts 300 --workers 1,2,4

Needs root (lab namespaces), RabbitMQ on 127.0.0.1:5672 (guest) and PostgreSQL on 127.0.0.1:5432 (trust).
Traffic stays on 127.0.0.1 and inside the lab namespaces this script creates and removes.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from trueorigin.lab.site import LabSite
from trueorigin.sites.service import Sites
from trueorigin.store import open_store

CLI = "import sys; from trueorigin.cli import main; sys.argv[0] = 'trueorigin'; main()"
PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-q", "-c"]


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CLI, *args], capture_output=True, text=True, env=env, check=False)


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-c", CLI, *args], stdout=out, stderr=out, env=env,
                                start_new_session=True)  # fmt: skip


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    for process in processes:
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def one_round(labs: dict[str, LabSite], workers: int, work: Path) -> tuple[float, int, int]:
    """(seconds from dispatch to the last job done, observations ingested, hosts done) with `workers`."""
    tag = uuid.uuid4().hex[:8]
    vhost, database = f"trueorigin-bench-{tag}", f"bench_{tag}"
    subprocess.run(["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run([*PSQL, f'CREATE DATABASE "{database}"'], check=True, capture_output=True)
    db = f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
    env = {**os.environ, "TRUEORIGIN_BROKER": f"amqp://guest:guest@127.0.0.1:5672/{vhost}", "TRUEORIGIN_DB": db}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for site in labs:
            assert run("sites", "add", site, env=env).returncode == 0
        processes += [start(["worker", "--name", f"w{i}"], env, work / f"w{i}-{tag}.log") for i in range(workers)]
        processes += [
            start(
                ["sensor", "--site", site, "--name", f"s-{site}", "--lab-netns", lab.namespace],
                env,
                work / f"s-{site}-{tag}.log",
            )
            for site, lab in labs.items()
        ]
        time.sleep(8)  # every process connected
        started = time.monotonic()
        jobs = []
        for site, lab in labs.items():
            addresses = [h["address"] for h in lab.manifest["hosts"]]
            result = run("sites", "audit", site, *addresses, "--timeout", "1", "--rate", "500", env=env)
            assert result.returncode == 0, result.stderr
            jobs.append(result.stdout.strip().splitlines()[-1])
        with open_store(db) as store:
            sites = Sites(store)
            while True:
                records = [sites.require_job(j) for j in jobs]
                if all(r.status not in ("queued", "running") for r in records):
                    break
                time.sleep(1.0)
        elapsed = time.monotonic() - started
        return elapsed, sum(r.observations for r in records), sum(r.hosts_done for r in records)
    finally:
        stop(processes)
        subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True)
        subprocess.run([*PSQL, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'], capture_output=True)


def direct_scans(labs: dict[str, LabSite], work: Path) -> float:
    started = time.monotonic()
    for site, lab in labs.items():
        addresses = [h["address"] for h in lab.manifest["hosts"]]
        db = f"sqlite:///{work / f'direct-{site}.db'}"
        result = lab.run([sys.executable, "-c", CLI, "scan", *addresses, "--timeout", "1", "--rate", "500",
                          "--json", "--db", db], capture_output=True)  # fmt: skip
        assert result.returncode in (0, 1, 3), result.stderr[-2000:]
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--hosts", type=int, default=300)
    parser.add_argument("--workers", default="1,2,4")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="trueorigin-bench-sites-"))
    labs: dict[str, LabSite] = {}
    try:
        for index in range(options.sites):
            site = f"site-{index:02d}"
            lab = LabSite(hosts=options.hosts, seed=100 + index, namespace=f"to-bench-{os.getpid()}-{index}",
                          state_dir=work / "labs")  # fmt: skip
            lab.up()
            labs[site] = lab
        print(f"{options.sites} sites x {options.hosts} devices, one sensor per site, CPUs: {os.cpu_count()}")
        peer = direct_scans(labs, work)
        print(f"peer: one `trueorigin scan` per site, one after another: {peer:.1f} s")
        for workers in (int(w) for w in options.workers.split(",")):
            elapsed, observations, hosts = one_round(labs, workers, work)
            print(
                f"{workers} ingest worker(s): {elapsed:.1f} s end to end, {hosts} hosts, {observations} observations, "
                f"{observations / elapsed:.0f} obs/s ingested; {peer / elapsed:.2f}x the sequential scans' speed"
            )
    finally:
        for lab in labs.values():
            lab.down()


if __name__ == "__main__":
    main()
