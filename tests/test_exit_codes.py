"""The one exit-code rule (trueorigin.errors, README "Reliability") and the one place that applies it (cli.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import trueorigin.identify_cli
from trueorigin import cli
from trueorigin.cli import app
from trueorigin.errors import (
    EXIT_CLEAN,
    EXIT_COVERED,
    EXIT_DAMAGED,
    EXIT_INTERNAL,
    EXIT_REVIEW,
    EXIT_USAGE,
    DamagedError,
    DataError,
    InputError,
    LimitError,
    SafetyError,
    verdict_exit_code,
)

SRC = Path(trueorigin.identify_cli.__file__).parent
runner = CliRunner()

HIKVISION_HTTP = "HTTP/1.1 200 OK\r\nServer: App-webs/\r\nContent-Length: 0\r\n\r\n"


@pytest.mark.parametrize(
    ("verdicts", "damaged", "expected"),
    [
        pytest.param([], False, EXIT_CLEAN, id="nothing"),
        pytest.param(["no", "no"], False, EXIT_CLEAN, id="clean"),
        pytest.param(["no", "review"], False, EXIT_REVIEW, id="review-only"),
        pytest.param(["review", "yes"], False, EXIT_COVERED, id="covered-wins-over-review"),
        pytest.param(["no"], True, EXIT_DAMAGED, id="damaged-is-never-clean"),
        pytest.param(["review"], True, EXIT_DAMAGED, id="damage-wins-over-review"),
        pytest.param(["yes"], True, EXIT_COVERED, id="covered-seen-in-damaged-input"),
    ],
)
def test_verdict_exit_code(verdicts: list[str], damaged: bool, expected: int) -> None:
    assert verdict_exit_code(verdicts, damaged=damaged) == expected


@pytest.mark.parametrize(
    ("error", "code"),
    [
        pytest.param(InputError("x"), EXIT_USAGE, id="input"),
        pytest.param(LimitError("x"), EXIT_USAGE, id="limit"),
        pytest.param(DataError("x"), EXIT_USAGE, id="data"),
        pytest.param(SafetyError("x"), EXIT_USAGE, id="safety"),
        pytest.param(DamagedError("x"), EXIT_DAMAGED, id="damaged"),
        pytest.param(RuntimeError("boom"), EXIT_INTERNAL, id="internal"),
        pytest.param(RecursionError("deep"), EXIT_INTERNAL, id="recursion"),
    ],
)
def test_errors_map_to_their_code_and_never_to_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, error: Exception, code: int
) -> None:
    def explode(_: Any) -> Any:
        raise error

    monkeypatch.setattr(trueorigin.identify_cli, "identify_all", explode)
    path = tmp_path / "obs.jsonl"
    path.write_text(json.dumps({"host": "192.0.2.1", "protocol": "http", "data": HIKVISION_HTTP}) + "\n")
    result = runner.invoke(app, ["identify", str(path)])
    assert result.exit_code == code, result.output
    assert result.exit_code != EXIT_COVERED
    assert "Traceback" not in result.output
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1, result.stderr


def test_internal_error_one_line_and_traceback_only_with_debug(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def explode(_: Any) -> Any:
        raise ZeroDivisionError("bug \x1b]0;title\x07")

    monkeypatch.setattr(trueorigin.identify_cli, "identify_all", explode)
    path = tmp_path / "obs.jsonl"
    path.write_text(json.dumps({"host": "192.0.2.1", "protocol": "http", "data": HIKVISION_HTTP}) + "\n")
    quiet = runner.invoke(app, ["identify", str(path)])
    assert quiet.exit_code == EXIT_INTERNAL
    assert "internal error: ZeroDivisionError" in quiet.stderr and "--debug" in quiet.stderr
    assert "\x1b" not in quiet.stderr and "\x07" not in quiet.stderr  # the message is shown inert
    loud = runner.invoke(app, ["--debug", "identify", str(path)])
    assert loud.exit_code == EXIT_INTERNAL
    assert "Traceback" in loud.stderr and "ZeroDivisionError" in loud.stderr


def test_a_huge_error_message_is_capped() -> None:
    assert len(cli.one_line("x" * 10_000_000)) < cli.MAX_MESSAGE_CHARS + 100
    assert "\n" not in cli.one_line("a\nb\rc")


def test_identify_exits_by_verdict(tmp_path: Path) -> None:
    covered = tmp_path / "covered.jsonl"
    covered.write_text(json.dumps({"host": "192.0.2.1", "protocol": "http", "data": HIKVISION_HTTP}) + "\n")
    assert runner.invoke(app, ["identify", str(covered)]).exit_code == EXIT_COVERED
    clean = tmp_path / "clean.jsonl"
    clean.write_text(json.dumps({"host": "192.0.2.2", "protocol": "banner", "data": "SSH-2.0-OpenSSH_9.6"}) + "\n")
    assert runner.invoke(app, ["identify", str(clean)]).exit_code == EXIT_CLEAN


def _callbacks(typer_app: typer.Typer, path: str = "") -> list[tuple[str, Any]]:
    found = [(f"{path} {c.name or c.callback.__name__}", c.callback) for c in typer_app.registered_commands]
    if typer_app.registered_callback is not None and typer_app.registered_callback.callback is not None:
        found.append((f"{path} (group callback)", typer_app.registered_callback.callback))
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            found.extend(_callbacks(group.typer_instance, f"{path} {group.name}"))
    return found


def test_every_command_goes_through_the_one_mapping() -> None:
    callbacks = _callbacks(app)
    assert len(callbacks) > 20
    unwrapped = [name for name, callback in callbacks if getattr(callback, "__wrapped__", None) is None]
    assert not unwrapped, unwrapped


def test_no_other_module_maps_errors_to_exit_codes() -> None:
    """One place: no command module catches TrueOriginError or exits with a bare number of its own."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "cli.py" and path.parent == SRC:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"except\s*\(?[\w., ]*TrueOriginError", text) or ".exit_code)" in text:
            offenders.append(str(path.relative_to(SRC)))
        for number in re.findall(r"typer\.Exit\((\d+)\)", text):
            if number != "127":  # `lab run` passes the child's "command not found" through, as a shell does
                offenders.append(f"{path.relative_to(SRC)}: typer.Exit({number})")
    assert not offenders, offenders


def test_installed_entry_point_maps_internal_errors() -> None:
    """The real process (not CliRunner): a usage error exits 2, never 1, and prints no traceback."""
    result = subprocess.run(
        [sys.executable, "-c", "from trueorigin.cli import main; main()", "identify", "--no-such-option"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == EXIT_USAGE
    assert "Traceback" not in result.stderr
