"""A store that is damaged, foreign, missing, newer than the tool or in memory: one clear line and a documented
exit code (4 for a damaged or foreign store, 2 for a usage problem), never a traceback, never a silent result.
Also the store's crash inputs of issue 11 (a huge finding id, a database without a driver) and URL passwords,
which no message may show."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

import pg_fixtures
from store_samples import sample_identifications, sample_observations
from trueorigin.cli import app
from trueorigin.errors import InputError, StoreError
from trueorigin.store import open_store
from trueorigin.store.api import redact, redact_url

pytestmark = pytest.mark.xdist_group("store")
pg_server = pg_fixtures.pg_server
store_url = pg_fixtures.store_url

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(200)


def _filled(path: Path, hosts: int = 3) -> Path:
    with open_store(str(path)) as store:
        scan_id = store.create_scan("network", ["198.18.0.0/24"], {}, site="hq")
        for ident in sample_identifications()[:hosts]:
            store.add_observations(scan_id, ident.host, sample_observations("198.18.0.10"))
            store.add_identification(scan_id, ident)
            store.finish_host(scan_id, ident.host)
        store.finish_scan(scan_id)
    return path


def _sql(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path)
    try:
        for statement in statements:
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


def _checkpointed(path: Path) -> Path:
    """Everything in the main file (not the WAL), so damage to the file is damage to the data."""
    _sql(path, "PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA journal_mode=DELETE")
    return path


def _corrupt_pages(path: Path) -> None:
    """Overwrite the middle of every page after the schema page, as a failing disk would."""
    _checkpointed(path)
    page_size = 4096
    data = bytearray(path.read_bytes())
    for start in range(page_size * 2, len(data), page_size):
        data[start + 200 : start + 1200] = os.urandom(1000)
    path.write_bytes(bytes(data))


def _png(tmp: Path) -> Path:
    path = tmp / "photo.db"
    path.write_bytes(PNG)
    return path


def _truncated(tmp: Path) -> Path:
    path = _checkpointed(_filled(tmp / "t.db", hosts=6))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 100])
    return path


def _page_corrupted(tmp: Path) -> Path:
    path = _filled(tmp / "c.db", hosts=6)
    _corrupt_pages(path)
    return path


def _other_app(tmp: Path) -> Path:
    path = tmp / "places.sqlite"
    _sql(path, "CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)", "INSERT INTO moz_places VALUES (1, 'x')")
    return path


def _missing_table(tmp: Path) -> Path:
    path = _filled(tmp / "m.db")
    _sql(path, "PRAGMA foreign_keys=OFF", "DROP TABLE finding_history")
    return path


def _missing_column(tmp: Path) -> Path:
    path = _filled(tmp / "col.db")
    _sql(path, "ALTER TABLE scans DROP COLUMN kb_version")
    return path


def _newer(tmp: Path) -> Path:
    path = _filled(tmp / "n.db")
    _sql(path, "UPDATE alembic_version SET version_num = '9999_from_the_future'")
    return path


def _bad_json(tmp: Path) -> Path:
    path = _filled(tmp / "j.db")
    _sql(path, 'UPDATE identifications SET ident_json = \'{"host": "198.18.0.10", \' WHERE id = 1')
    return path


DAMAGED: list[object] = [
    pytest.param(_png, "not a SQLite database", id="png-renamed-db"),
    pytest.param(_other_app, "not a trueorigin store", id="another-apps-sqlite-db"),
    pytest.param(_truncated, "damaged", id="truncated"),
    pytest.param(_page_corrupted, "damaged", id="page-corrupted"),
    pytest.param(_missing_table, "finding_history", id="missing-table"),
    pytest.param(_missing_column, "kb_version", id="missing-column"),
    pytest.param(_bad_json, "invalid JSON", id="damaged-json-column"),
]

READ_COMMANDS = [
    pytest.param(["findings", "list"], id="findings-list"),
    pytest.param(["scans"], id="scans"),
    pytest.param(["report", "--format", "json", "--out", "{tmp}/r.json"], id="report"),
]


def _invoke(args: list[str], tmp: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, [a.replace("{tmp}", str(tmp)) for a in args], env={"COLUMNS": "1000"})
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.mark.parametrize("command", READ_COMMANDS)
@pytest.mark.parametrize(("make", "message"), DAMAGED)
def test_damaged_store_is_one_line_and_exit_4(
    tmp_path: Path, make: Callable[[Path], Path], message: str, command: list[str]
) -> None:
    path = make(tmp_path)
    before = path.read_bytes()
    code, output = _invoke([*command, "--db", str(path)], tmp_path)
    if message == "invalid JSON" and command == ["scans"]:
        assert code == 0  # `scans` does not read identifications: nothing damaged in what it shows
        return
    assert code == 4, output
    assert message in output
    assert len(output.strip().splitlines()) == 1
    if make in (_png, _other_app):
        assert path.read_bytes() == before, "a foreign file must never be modified"


def test_store_newer_than_the_tool_is_a_clear_usage_error(tmp_path: Path) -> None:
    path = _newer(tmp_path)
    code, output = _invoke(["findings", "list", "--db", str(path)], tmp_path)
    assert code == 2
    assert "newer version" in output and "9999_from_the_future" in output


@pytest.mark.parametrize("make", [pytest.param(_png, id="png"), pytest.param(_other_app, id="other-app")])
def test_writers_refuse_a_foreign_file_too(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    path = make(tmp_path)
    with pytest.raises(StoreError):
        open_store(str(path))


def test_page_corruption_is_found_by_the_integrity_check(tmp_path: Path) -> None:
    path = _page_corrupted(tmp_path)
    with pytest.raises(StoreError, match="damaged"):
        open_store(str(path), create=False, verify=True)


@pytest.mark.parametrize(
    "command",
    [
        *READ_COMMANDS,
        pytest.param(["findings", "history"], id="findings-history"),
        pytest.param(["findings", "set", "removed", "1"], id="findings-set"),
        pytest.param(["diff", "previous", "latest"], id="diff"),
        pytest.param(["report", "verify", "{tmp}/report.json"], id="report-verify"),
        pytest.param(["reidentify", "latest"], id="reidentify"),
    ],
)
def test_read_commands_refuse_a_store_that_does_not_exist(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "tpyo.db"
    manifest = {"format": "trueorigin-evidence-manifest/1", "scan_id": "x", "findings": []}
    (tmp_path / "report.json").write_text(
        json.dumps({"evidence_manifest": manifest, "evidence_manifest_sha256": "0" * 64})
    )  # a readable report: the store is what is missing
    code, output = _invoke([*command, "--db", str(missing)], tmp_path)
    assert code == 2, output
    assert "no trueorigin store" in output
    assert not missing.exists(), "a mistyped path must not become an empty store"


def test_empty_postgresql_database_is_not_a_store_for_read_commands(pg_server: pg_fixtures.PgServer) -> None:
    url = pg_server.create_database()
    with pytest.raises(InputError, match="no trueorigin store"):
        open_store(url, create=False)
    open_store(url).close()  # a writer creates it
    open_store(url, create=False).close()


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite://", "sqlite:///:memory:"])
def test_in_memory_store_is_refused(url: str) -> None:
    with pytest.raises(InputError, match="lost when the command ends"):
        open_store(url)
    code, output = _invoke(["scans", "--db", url], Path("."))
    assert code == 2 and "in memory" in output


def test_huge_finding_id_is_a_usage_error(tmp_path: Path) -> None:
    path = _filled(tmp_path / "h.db")
    for args in (["findings", "set", "removed"], ["findings", "history"], ["findings", "tag", "x"]):
        code, output = _invoke([*args, "999999999999999999999999", "--db", str(path)], tmp_path)
        assert code == 2, (args, output)
        assert "no finding" in output


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("mysql://user:hunter2pw@127.0.0.1/db", id="mysql-without-driver"),
        pytest.param("oracle://user:hunter2pw@127.0.0.1/db", id="oracle"),
        pytest.param("nosuchdb://user:hunter2pw@x/db", id="unknown-dialect"),
    ],
)
def test_unsupported_databases_are_usage_errors_without_the_password(url: str, tmp_path: Path) -> None:
    code, output = _invoke(["scans", "--db", url], tmp_path)
    assert code == 2, output
    assert "hunter2pw" not in output
    assert "***" in output


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("postgresql://postgres:hunter2pw@127.0.0.1:1/trueorigin", id="refused-port"),
        pytest.param("postgresql://postgres:hunter2pw@127.0.0.1:5432/no_such_db_store", id="no-such-database"),
        pytest.param("postgresql://postgres:hunter2pw@127.0.0.1:notaport/x", id="bad-port"),
        pytest.param("postgresql://postgres:p%40ss%3Ahunter2pw@127.0.0.1:1/x", id="escaped-password"),
        pytest.param("postgresql://postgres@/x?host=127.0.0.1&port=1&password=hunter2pw", id="password-in-query"),
    ],
)
def test_postgresql_errors_never_show_the_password(url: str, tmp_path: Path) -> None:
    code, output = _invoke(["scans", "--db", url], tmp_path)
    assert code == 2, output
    assert "hunter2pw" not in output
    assert "error:" in output


def test_postgresql_password_is_hidden_in_messages_of_a_reachable_server(pg_server: pg_fixtures.PgServer) -> None:
    url = pg_server.create_database().replace("postgres@", "postgres:hunter2pw@")
    with pytest.raises(InputError) as refused:
        open_store(url, create=False)  # trust auth accepts any password; the database is empty
    assert "hunter2pw" not in str(refused.value) and "***" in str(refused.value)


@pytest.mark.parametrize(
    ("message", "url"),
    [
        pytest.param("could not connect postgresql://u:hunter2pw@h/db", None, id="url-in-text"),
        pytest.param("dsn: host=h user=u password=hunter2pw dbname=x", None, id="libpq-dsn"),
        pytest.param("bad value 'hunter2pw'", "postgresql://u:hunter2pw@h/db", id="echoed-value"),
        pytest.param("bad value 'p%40hunter2pw'", "postgresql://u:p%40hunter2pw@h/db", id="escaped-value"),
    ],
)
def test_redact(message: str, url: str | None) -> None:
    assert "hunter2pw" not in redact(message, url)


def test_redact_url_keeps_everything_but_the_password() -> None:
    assert redact_url("postgresql://u:hunter2pw@db.example:5432/x") == "postgresql://u:***@db.example:5432/x"


def test_damaged_json_in_a_postgresql_store_is_a_store_error(store_url: str) -> None:
    with open_store(store_url) as store:
        scan_id = store.create_scan("network", [], {})
        store.add_identification(scan_id, sample_identifications()[0])
    engine = create_engine(store_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE identifications SET ident_json = '[1, 2'"))
        connection.execute(text("UPDATE scans SET options_json = '\"not an object\"'"))
    engine.dispose()
    with open_store(store_url, create=False) as store:
        with pytest.raises(StoreError, match="invalid JSON"):
            store.findings()
        with pytest.raises(StoreError, match="options"):
            store.scans()


@pytest.mark.parametrize(
    ("db", "code", "message"),
    [
        pytest.param("sqlite:///", 2, "in memory", id="in-memory"),
        pytest.param("{tmp}/photo.db", 4, "not a SQLite database", id="png"),
        pytest.param("mysql://u:hunter2pw@127.0.0.1/x", 2, "unsupported database", id="mysql"),
    ],
)
def test_import_refuses_a_store_it_cannot_keep(tmp_path: Path, db: str, code: int, message: str) -> None:
    _png(tmp_path)
    nmap = Path(__file__).parent / "data" / "passive" / "nmap-hikvision.xml"
    exit_code, output = _invoke(["import", str(nmap), "--json", "--db", db], tmp_path)
    assert exit_code == code, output
    assert message in output and "hunter2pw" not in output


def test_a_writer_meeting_a_missing_column_reports_damage(tmp_path: Path) -> None:
    path = _filled(tmp_path / "w.db")
    _sql(path, "ALTER TABLE scans DROP COLUMN kb_version")
    nmap = Path(__file__).parent / "data" / "passive" / "nmap-hikvision.xml"
    code, output = _invoke(["import", str(nmap), "--json", "--db", str(path)], tmp_path)
    assert code == 4, output
    assert "damaged" in output and "kb_version" in output
