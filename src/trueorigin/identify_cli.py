"""`trueorigin identify`: the offline contract (registered by trueorigin.cli).

Input: JSON lines, one observation each (see README). Output: one identification per host.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO

import typer
from rich.console import Console

from trueorigin.audit import identify_all
from trueorigin.errors import InputError, verdict_exit_code
from trueorigin.model import Identification, Observation
from trueorigin.observations_io import BadLine, read_jsonl
from trueorigin.safetext import json_text
from trueorigin.terminal import Styled, line, print_identifications_table
from trueorigin.terminal import console as make_console

SHOWN_BAD_LINES = 20


def print_identifications(idents: Iterable[Identification], as_json: bool, console: Console | None = None) -> int:
    """Print identifications as JSON lines or a table; returns how many are covered ("yes")."""
    idents = list(idents)
    covered = sum(1 for i in idents if i.covered == "yes")
    if as_json:
        for ident in idents:
            sys.stdout.write(json_text(ident.to_json()) + "\n")
        return covered
    print_identifications_table(console or make_console(), idents)
    return covered


def _open_input(path: Path) -> AbstractContextManager[IO[str]]:
    if str(path) == "-":
        return contextlib.nullcontext(sys.stdin)
    return path.open(encoding="utf-8", errors="surrogateescape")


def register(app: typer.Typer) -> None:
    @app.command("identify")
    def identify(
        path: Path = typer.Argument(..., help="JSON lines of observations; '-' reads standard input."),
        as_json: bool = typer.Option(False, "--json", help="One JSON line per host."),
    ) -> None:
        """Identify hosts from saved device responses (the offline contract).

        Exit code: 0 nothing covered, 1 covered found, 3 review only, 2 bad input (README).
        """
        err = make_console(stderr=True)
        observations: list[Observation] = []
        bad = 0
        try:
            with _open_input(path) as stream:
                for item in read_jsonl(stream, what=str(path)):
                    if isinstance(item, BadLine):
                        bad += 1
                        if bad <= SHOWN_BAD_LINES:
                            err.print(line(Styled(f"line {item.number} skipped:", "yellow"), " ", item.reason))
                    else:
                        observations.append(item)
        except FileNotFoundError as exc:
            raise InputError(f"no such file: {path}") from exc
        except IsADirectoryError as exc:
            raise InputError(f"{path} is a directory, not a JSON lines file") from exc
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if bad > SHOWN_BAD_LINES:
            err.print(line(Styled(f"... and {bad - SHOWN_BAD_LINES} more lines skipped", "yellow")))
        if not observations:
            raise InputError(f"{path}: no valid observation lines")
        idents = identify_all(observations)
        print_identifications(idents, as_json)
        raise typer.Exit(verdict_exit_code(i.covered for i in idents))
