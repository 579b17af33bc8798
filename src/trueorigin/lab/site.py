"""A lab site: seeded ground truth, its network namespace, and the simulator process that serves it.

```python
site = LabSite(hosts=50, seed=7, namespace="trueorigin-lab-t1")
manifest = site.up()            # namespace + addresses + simulator in the background
site.run(["trueorigin", "scan", manifest["cidr"]])
site.down()
```

Same (hosts, seed, mix, cidr) -> byte-identical manifest. Without root or without `ip`, the site falls
back to 127.0.0.0/8 addresses in the host namespace (unicast only, no multicast); the simulator refuses to
bind anything outside 127.0.0.0/8 unless it runs in the lab's own namespace.

`LabSite(l2=True)` (`lab up --l2`) puts the devices on a real Ethernet segment: the simulator runs in a second
namespace `<namespace>-h` where every device has its own veth interface with the manifest's MAC, all on one
bridge; the scanner's namespace `<namespace>` reaches the bridge through its own veth (`lan0`, address
`manifest["scanner_address"]`). The kernel then answers ARP per device, so the scanner's neighbour table holds
each device's MAC, as on a real site. Unicast only: multicast discovery is not served in this mode.
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from trueorigin.errors import InputError, TrueOriginError
from trueorigin.lab.profiles import Profile, load_profiles

DEFAULT_NAMESPACE = "trueorigin-lab"
DEFAULT_CIDR = "198.18.0.0/16"
LOOPBACK_CIDR = "127.77.0.0/16"
STATE_DIR = Path(".trueorigin/lab")
READY_TIMEOUT = 120.0

# Share of each profile group per mix; within a group every profile is equally likely.
MIXES: dict[str, dict[str, float]] = {
    "default": {"covered": 0.30, "oem": 0.20, "other": 0.50},
    "covered-heavy": {"covered": 0.55, "oem": 0.35, "other": 0.10},
    "hostile": {"covered": 0.15, "oem": 0.10, "other": 0.25, "hostile": 0.50},
}


def can_use_namespace() -> bool:
    return os.geteuid() == 0 and shutil.which("ip") is not None


def _serial(profile: Profile, model: str, rng: random.Random) -> str:
    template = str(profile.data.get("serial", "${digits9}"))
    date = f"20{rng.randint(18, 25):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    values = {
        "model": model,
        "date8": date,
        "date6": date[2:],
        "digits9": f"{rng.randrange(10**9):09d}",
        "digits12": f"{rng.randrange(10**12):012d}",
        "alnum15": "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(15)),
        "hex12": f"{rng.randrange(16**12):012X}",
    }
    from string import Template

    return Template(template).safe_substitute(values)


def build_manifest(
    hosts: int, seed: int, mix: str = "default", cidr: str = DEFAULT_CIDR, namespace: str = DEFAULT_NAMESPACE,
    mode: str = "namespace",
) -> dict[str, Any]:  # fmt: skip
    """The ground truth of a site: which address is which device. Pure function of its arguments."""
    if mix not in MIXES:
        raise InputError(f"unknown mix {mix!r}; choose one of {', '.join(sorted(MIXES))}")
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError as exc:
        raise InputError(f"bad CIDR {cidr!r}: {exc}") from None
    if not isinstance(network, ipaddress.IPv4Network):
        raise InputError("the lab uses IPv4 CIDRs")
    usable = network.num_addresses - 2
    if hosts < 1 or hosts > usable:
        raise InputError(f"--hosts must be between 1 and {usable} for {network}")
    profiles = load_profiles()
    groups: dict[str, list[str]] = {}
    for pid, profile in sorted(profiles.items()):
        groups.setdefault(str(profile.data.get("group", "other")), []).append(pid)
    weights = {g: w for g, w in MIXES[mix].items() if groups.get(g)}
    rng = random.Random(f"trueorigin-lab|{seed}|{mix}|{network}")
    offsets = sorted(rng.sample(range(1, network.num_addresses - 1), hosts))
    group_names = sorted(weights)
    macs: set[str] = set()
    records: list[dict[str, Any]] = []
    for offset in offsets:
        group = rng.choices(group_names, [weights[g] for g in group_names])[0]
        profile = profiles[rng.choice(groups[group])]
        model = rng.choice(profile.models)
        mac = ""
        while not mac or mac in macs:
            prefix = rng.choice(profile.mac_prefixes).lower()
            mac = prefix + "".join(f":{rng.randrange(256):02x}" for _ in range(3))
        macs.add(mac)
        record: dict[str, Any] = {
            "address": str(network.network_address + offset),
            "profile": profile.id,
            "vendor": profile.vendor_name,
            "vendor_id": profile.vendor,
            "brand": profile.brand,
            "brand_shown": profile.brand_shown,
            "model": model,
            "firmware": rng.choice(profile.firmwares),
            "serial": _serial(profile, model, rng),
            "mac": mac,
            "covered": profile.covered,
            "kind": profile.kind,
            "credentials": [{"username": "admin", "password": f"Lab-{rng.randrange(16**10):010x}"}],
            "ports": {"tcp": sorted(profile.tcp), "udp": sorted(profile.udp)},
        }
        if "snmp" in profile.udp.values():
            record["snmp_community"] = f"lab-{rng.randrange(16**6):06x}"
        if profile.hostile:
            record["hostile"] = dict(profile.hostile)
        records.append(record)
    return {
        "namespace": namespace if mode != "loopback" else None,
        "mode": mode,
        "cidr": str(network),
        "seed": seed,
        "mix": mix,
        "hosts": records,
    }


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise TrueOriginError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def namespace_exists(name: str) -> bool:
    return name in {line.split()[0] for line in _ip("netns", "list", check=False).stdout.splitlines() if line}


class LabSite:
    """One lab site: `up()` builds it, `run()` executes inside it, `down()` removes it."""

    def __init__(
        self, *, hosts: int = 20, seed: int = 1, mix: str = "default", cidr: str = DEFAULT_CIDR,
        namespace: str = DEFAULT_NAMESPACE, manifest_path: Path | None = None, state_dir: Path | None = None,
        force_loopback: bool = False, l2: bool = False,
    ) -> None:  # fmt: skip
        if not namespace.replace("-", "").replace("_", "").isalnum() or len(namespace) > 46:
            raise InputError(f"bad namespace name {namespace!r}")
        self.hosts, self.seed, self.mix, self.cidr, self.namespace = hosts, seed, mix, cidr, namespace
        self.state_dir = state_dir or STATE_DIR
        self.manifest_path = manifest_path or self.state_dir / f"{namespace}.json"
        self.mode = "loopback" if force_loopback or not can_use_namespace() else "l2" if l2 else "namespace"
        if l2 and self.mode != "l2":
            raise InputError("the L2 lab needs network namespaces (root and `ip`)")

    @property
    def hosts_namespace(self) -> str:
        """Where the devices live in L2 mode (the scanner stays in `namespace`)."""
        return f"{self.namespace}-h"
        self._manifest: dict[str, Any] | None = None

    @property
    def pid_path(self) -> Path:
        return self.state_dir / f"{self.namespace}.pid"

    @property
    def ready_path(self) -> Path:
        return self.state_dir / f"{self.namespace}.ready"

    @property
    def log_path(self) -> Path:
        return self.state_dir / f"{self.namespace}.log"

    @property
    def manifest(self) -> dict[str, Any]:
        if self._manifest is None:
            if not self.manifest_path.exists():
                raise InputError(f"no lab manifest at {self.manifest_path}; run `trueorigin lab up` first")
            self._manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        return self._manifest

    def up(self) -> dict[str, Any]:
        cidr = self.cidr
        if self.mode == "loopback":
            network = ipaddress.ip_network(cidr, strict=False)
            if not network.subnet_of(ipaddress.ip_network("127.0.0.0/8")):  # type: ignore[arg-type]
                cidr = LOOPBACK_CIDR
        elif ipaddress.ip_network(cidr, strict=False).subnet_of(ipaddress.ip_network("127.0.0.0/8")):  # type: ignore[arg-type]
            raise InputError("inside a namespace the site needs a non-loopback CIDR (default 198.18.0.0/16)")
        manifest = build_manifest(self.hosts, self.seed, self.mix, cidr, self.namespace, self.mode)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.manifest_path.parent.mkdir(parents=True, exist_ok=True)
        if self.pid_path.exists():
            raise InputError(f"lab {self.namespace} is already up (pid file {self.pid_path}); run `lab down`")
        if self.mode == "namespace":
            self._create_namespace([h["address"] for h in manifest["hosts"]])
        elif self.mode == "l2":
            manifest["scanner_address"] = scanner_address(manifest)
            manifest["hosts_namespace"] = self.hosts_namespace
            self._create_segment(manifest)
        self.manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=False) + "\n", encoding="utf-8")
        self._manifest = manifest
        try:
            self._start_simulator()
        except BaseException:
            self.down()
            raise
        return manifest

    def _create_namespace(self, addresses: list[str]) -> None:
        if namespace_exists(self.namespace):
            raise InputError(f"network namespace {self.namespace} already exists; run `trueorigin lab down`")
        _ip("netns", "add", self.namespace)
        try:
            with tempfile.NamedTemporaryFile("w", suffix=".batch", delete=False) as batch:
                batch.write("link set lo up\nlink set lo multicast on\nroute add 224.0.0.0/4 dev lo\n")
                batch.writelines(f"address add {address}/32 dev lo\n" for address in addresses)
            _ip("-n", self.namespace, "-batch", batch.name)
        except BaseException:
            _ip("netns", "delete", self.namespace, check=False)
            raise
        finally:
            Path(batch.name).unlink(missing_ok=True)

    def _create_segment(self, manifest: dict[str, Any]) -> None:
        """Scanner namespace + devices namespace joined by a bridge; one veth per device, with its MAC."""
        hosts_ns = self.hosts_namespace
        for name in (self.namespace, hosts_ns):
            if namespace_exists(name):
                raise InputError(f"network namespace {name} already exists; run `trueorigin lab down`")
        prefix = ipaddress.ip_network(manifest["cidr"]).prefixlen
        _ip("netns", "add", self.namespace)
        try:
            _ip("netns", "add", hosts_ns)
            # Each device answers ARP only for its own address, on its own interface (arp_ignore=1), and
            # replies leave by whichever device interface routes first: no reverse-path filter.
            sysctls = ("all/arp_ignore=1", "default/arp_ignore=1", "all/arp_announce=2", "default/arp_announce=2",
                       "all/rp_filter=0", "default/rp_filter=0")  # fmt: skip
            script = "".join(
                f"echo {value} > /proc/sys/net/ipv4/conf/{key}\n" for key, value in (s.split("=") for s in sysctls)
            )
            subprocess.run(["ip", "netns", "exec", hosts_ns, "sh", "-c", script], check=True, capture_output=True)
            lines = ["link set lo up", "link add br0 type bridge", "link set br0 up",
                     f"link add lan0p type veth peer name lan0 netns {self.namespace}",
                     "link set lan0p master br0", "link set lan0p up"]  # fmt: skip
            for index, host in enumerate(manifest["hosts"]):
                lines += [
                    f"link add h{index} address {host['mac']} type veth peer name h{index}p",
                    f"link set h{index}p master br0",
                    f"link set h{index}p up",
                    f"address add {host['address']}/{prefix} dev h{index}",
                    f"link set h{index} up",
                ]
            self._batch(hosts_ns, lines)
            scanner = manifest["scanner_address"]
            self._batch(
                self.namespace, ["link set lo up", f"address add {scanner}/{prefix} dev lan0", "link set lan0 up"]
            )
        except BaseException:
            _ip("netns", "delete", hosts_ns, check=False)
            _ip("netns", "delete", self.namespace, check=False)
            raise

    @staticmethod
    def _batch(namespace: str, lines: list[str]) -> None:
        with tempfile.NamedTemporaryFile("w", suffix=".batch", delete=False) as batch:
            batch.write("\n".join(lines) + "\n")
        try:
            _ip("-n", namespace, "-batch", batch.name)
        finally:
            Path(batch.name).unlink(missing_ok=True)

    def _start_simulator(self) -> None:
        self.ready_path.unlink(missing_ok=True)
        command = [sys.executable, "-m", "trueorigin.lab.server", "--manifest", str(self.manifest_path.resolve()),
                   "--ready", str(self.ready_path.resolve())]  # fmt: skip
        if self.mode == "namespace":
            command = ["ip", "netns", "exec", self.namespace, *command]
        elif self.mode == "l2":
            command = ["ip", "netns", "exec", self.hosts_namespace, *command]
        else:
            command.append("--loopback")
        with open(self.log_path, "ab") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        self.pid_path.write_text(f"{process.pid}\n", encoding="utf-8")
        deadline = time.monotonic() + READY_TIMEOUT
        while not self.ready_path.exists():
            if process.poll() is not None:
                tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
                raise TrueOriginError(f"the lab simulator exited ({process.returncode}):\n{tail}")
            if time.monotonic() > deadline:
                raise TrueOriginError("the lab simulator did not become ready in time")
            time.sleep(0.05)

    def run(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        """Run `command` inside the site's namespace (directly in loopback mode)."""
        if not command:
            raise InputError("no command given")
        if self.manifest_path.exists():
            mode = self.manifest.get("mode", "namespace")
        elif can_use_namespace() and namespace_exists(self.namespace):
            mode = "namespace"  # the manifest was written elsewhere (`lab up --manifest PATH`)
        else:
            mode = "loopback" if self.mode == "loopback" else "namespace"
        if mode in ("namespace", "l2"):
            if not namespace_exists(self.namespace):
                raise InputError(f"network namespace {self.namespace} does not exist; run `trueorigin lab up`")
            command = ["ip", "netns", "exec", self.namespace, *command]
        return subprocess.run(command, check=False, **kwargs)

    def down(self) -> None:
        if self.pid_path.exists():
            try:
                pid = int(self.pid_path.read_text(encoding="utf-8").strip())
            except ValueError:
                pid = 0
            if pid > 0:
                _stop(pid)
            self.pid_path.unlink(missing_ok=True)
        self.ready_path.unlink(missing_ok=True)
        if self.mode != "loopback" and can_use_namespace():
            for name in (self.hosts_namespace, self.namespace):  # the L2 mode's devices namespace first
                if namespace_exists(name):
                    for pid in _simulators_in(name):  # pid file elsewhere (`up` ran from another directory)
                        _stop(pid)
                    _ip("netns", "delete", name)


def scanner_address(manifest: dict[str, Any]) -> str:
    """The scanner's own address on the L2 segment: the highest address of the range no device uses."""
    network = ipaddress.IPv4Network(manifest["cidr"])
    used = {h["address"] for h in manifest["hosts"]}
    candidate = network.broadcast_address - 1
    while str(candidate) in used:
        candidate -= 1
    if candidate <= network.network_address:
        raise InputError(f"no free address for the scanner in {network}")
    return str(candidate)


def _simulators_in(namespace: str) -> list[int]:
    """Pids of lab simulators running inside `namespace` (`ip netns pids`, filtered by command line)."""
    pids = []
    for word in _ip("netns", "pids", namespace, check=False).stdout.split():
        try:
            command = Path(f"/proc/{int(word)}/cmdline").read_bytes()
        except (ValueError, OSError):
            continue
        if b"trueorigin.lab.server" in command:
            pids.append(int(word))
    return pids


def _stop(pid: int) -> None:
    """SIGTERM the simulator we started, then SIGKILL if it lingers."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            finished = 0
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        if finished:
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
