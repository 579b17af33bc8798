"""A throwaway PostgreSQL cluster for tests, plus a `store_url` fixture parametrized over SQLite and PostgreSQL.

The cluster is created with Debian's postgresql binaries (`initdb`, `pg_ctl`) in a temporary directory owned by
the `postgres` user (initdb refuses to run as root), listens on 127.0.0.1 on a free port with trust auth, and is
stopped at the end of the session. Without the binaries the PostgreSQL half of the tests is skipped, saying why.

Import the fixtures from conftest.py:  `from tests.pg_fixtures import pg_server, store_url  # noqa: F401`
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from needs import missing


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    bindir: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh, empty database for one test; returns its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        subprocess.run(
            [str(self.bindir / "createdb"), "-h", self.host, "-p", str(self.port), "-U", "postgres", name],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return self.url(name)


def find_pg_bindir() -> Path | None:
    """Newest Debian PostgreSQL bin directory with initdb, or one on PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _demote(uid: int, gid: int) -> Callable[[], None] | None:
    """Child-process hook that drops root to the cluster owner (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return None

    def demote() -> None:
        os.setgid(gid)
        os.setuid(uid)

    return demote


def _as_postgres(argv: list[str], uid: int, gid: int) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, check=True, capture_output=True, timeout=120, preexec_fn=_demote(uid, gid))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = find_pg_bindir()
    if bindir is None:
        missing("PostgreSQL binaries not found (apt-get install -y postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing("psycopg 3 is not installed (pip install 'psycopg[binary]')")
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            missing("running as root but there is no `postgres` user to run initdb as")
        uid, gid = user.pw_uid, user.pw_gid
    else:
        uid, gid = os.getuid(), os.getgid()
    base = Path(tempfile.mkdtemp(prefix="trueorigin-pg-"))
    os.chown(base, uid, gid)
    datadir, sockdir = base / "data", base / "sock"
    sockdir.mkdir()
    os.chown(sockdir, uid, gid)
    port = _free_port()
    try:
        _as_postgres(
            [str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
            uid,
            gid,
        )
        options = f"-h 127.0.0.1 -p {port} -k {sockdir} -c fsync=off -c full_page_writes=off"
        _as_postgres(
            [str(bindir / "pg_ctl"), "-D", str(datadir), "-o", options, "-l", str(base / "log"), "-w", "start"],
            uid,
            gid,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(base, ignore_errors=True)
        missing(f"could not start a PostgreSQL cluster: {exc.stderr.decode(errors='replace')[-500:]}")
    try:
        yield PgServer(host="127.0.0.1", port=port, bindir=bindir)
    finally:
        subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            preexec_fn=_demote(uid, gid),
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="postgresql")])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store: a SQLite file, or a fresh database on the throwaway PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database()
