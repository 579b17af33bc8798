"""`trueorigin identify`: the offline contract (registered by trueorigin.cli).

Input: JSON lines, one observation each (see README). Output: one identification per host.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import typer
from rich.console import Console

from trueorigin.audit import identify_all
from trueorigin.errors import InputError, verdict_exit_code
from trueorigin.model import Identification, Observation
from trueorigin.observations_io import BadLine, read_jsonl
from trueorigin.safetext import json_text
from trueorigin.terminal import Styled, line, print_identifications_table
from trueorigin.terminal import console as make_console


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
        if str(path) == "-":
            items = list(read_jsonl(sys.stdin))
        else:
            try:
                with path.open(encoding="utf-8", errors="surrogateescape") as stream:
                    items = list(read_jsonl(stream))
            except FileNotFoundError as exc:
                raise InputError(f"no such file: {path}") from exc
            except IsADirectoryError as exc:
                raise InputError(f"{path} is a directory, not a JSON lines file") from exc
        observations: list[Observation] = []
        for item in items:
            if isinstance(item, BadLine):
                err.print(line(Styled(f"line {item.number} skipped:", "yellow"), " ", item.reason))
            else:
                observations.append(item)
        if not observations:
            raise InputError(f"{path}: no valid observation lines")
        idents = identify_all(observations)
        print_identifications(idents, as_json)
        raise typer.Exit(verdict_exit_code(i.covered for i in idents))
