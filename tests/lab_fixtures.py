"""Pytest fixtures of the device lab (imported by tests/conftest.py).

`lab_site`: a small seeded site in its own network namespace, one per xdist worker, torn down at the end;
skipped with a reason when the lab cannot create a namespace (not root, or no `ip`). Its seed is chosen by
`covering_seed`, so every profile has at least one host (tests/test_lab_live.py asserts it), whatever
profiles are added later.
`lab_exchange`: run byte exchanges inside that namespace (see `trueorigin.lab.exchange`).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from needs import require
from trueorigin.lab.profiles import load_profiles
from trueorigin.lab.site import LabSite, build_manifest, can_use_namespace

LAB_HOSTS = 200
LAB_MIX = "hostile"
LAB_SEED = 4245  # first seed tried; `covering_seed` moves on until the site holds every profile


def covering_seed(hosts: int = LAB_HOSTS, mix: str = LAB_MIX, start: int = LAB_SEED, tries: int = 500) -> int:
    """The first seed from `start` whose site holds every profile (so each profile's live test really runs).

    Pure and fast (`build_manifest` only); fails loudly, rather than letting profile tests go missing, when
    `hosts` is too small for the number of profiles.
    """
    wanted = set(load_profiles())
    for seed in range(start, start + tries):
        if {h["profile"] for h in build_manifest(hosts, seed, mix)["hosts"]} >= wanted:
            return seed
    raise RuntimeError(f"no seed in [{start}, {start + tries}) puts all {len(wanted)} profiles in {hosts} hosts")


def _namespace_name() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"trueorigin-lab-t{os.getpid()}-{worker}"[:40]


@pytest.fixture(scope="session")
def lab_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSite]:
    require(can_use_namespace(), "the device lab needs root and iproute2 (`ip`) to create a network namespace")
    state = tmp_path_factory.mktemp("lab")
    seed = covering_seed()
    site = LabSite(hosts=LAB_HOSTS, seed=seed, mix=LAB_MIX, namespace=_namespace_name(), state_dir=state)
    site.up()
    try:
        yield site
    finally:
        site.down()


Exchange = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def run_exchanges(site: LabSite, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send `requests` from inside the site's namespace; payloads given as bytes under `payload`."""
    wire = []
    for request in requests:
        request = dict(request)
        payload = request.pop("payload", b"")
        request["payload_b64"] = base64.b64encode(payload).decode()
        wire.append(request)
    result = site.run(
        [sys.executable, "-m", "trueorigin.lab.exchange"], input=json.dumps(wire).encode(), capture_output=True,
        timeout=120, cwd=Path.cwd(),
    )  # fmt: skip
    if result.returncode != 0:
        raise AssertionError(result.stderr.decode(errors="replace"))
    answers: list[dict[str, Any]] = json.loads(result.stdout)
    for answer in answers:
        if "data_b64" in answer:
            answer["data"] = base64.b64decode(answer["data_b64"])
        for udp in answer.get("answers", []):
            udp["data"] = base64.b64decode(udp["data_b64"])
    return answers


@pytest.fixture(scope="session")
def lab_exchange(lab_site: LabSite) -> Exchange:
    return lambda requests: run_exchanges(lab_site, requests)


def lab_cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from trueorigin.cli import main; sys.argv[0] = 'trueorigin'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)


_PROBE_RUNNER = """
import asyncio, base64, importlib, json, sys
from trueorigin.model import Target
from trueorigin.probes.base import ProbeContext
module = importlib.import_module("trueorigin.probes." + sys.argv[1])
port = int(sys.argv[3]) if len(sys.argv) > 3 else None
found = asyncio.run(module.probe(Target(sys.argv[2], port), ProbeContext(timeout=2.0)))
print(json.dumps([{"protocol": o.protocol, "port": o.port, "request": o.request, "transport": o.transport,
                   "status": str(o.status), "data_b64": base64.b64encode(o.data).decode()} for o in found]))
"""


def run_probe(site: LabSite, module: str, address: str, port: int | None = None) -> list[dict[str, Any]]:
    """Run the project's own `trueorigin.probes.<module>.probe` against `address`, from inside the site."""
    argv = [sys.executable, "-c", _PROBE_RUNNER, module, address] + ([str(port)] if port else [])
    result = site.run(argv, capture_output=True, timeout=120, cwd=Path.cwd())
    if result.returncode != 0:
        raise AssertionError(result.stderr.decode(errors="replace"))
    observations: list[dict[str, Any]] = json.loads(result.stdout)
    for observation in observations:
        observation["data"] = base64.b64decode(observation.pop("data_b64"))
    return observations
