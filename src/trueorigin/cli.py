"""Root command line. Each area registers its own commands from its package's `cli.py`."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console

from trueorigin import __version__
from trueorigin.errors import TrueOriginError

app = typer.Typer(
    name="trueorigin",
    help="Find equipment made by covered vendors (NDAA §889, FCC Covered List), relabeled or not, and prove it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"trueorigin {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """trueorigin: which of our devices were really made by a covered vendor?"""


def _register_all() -> None:
    # Imported here so a broken area cannot stop `--help` of the others from loading in tests.
    from trueorigin import identify_cli
    from trueorigin.fingerprints import cli as fingerprints_cli
    from trueorigin.knowledge import cli as kb_cli
    from trueorigin.lab import cli as lab_cli
    from trueorigin.passive import cli as passive_cli
    from trueorigin.report import cli as report_cli
    from trueorigin.scan import cli as scan_cli
    from trueorigin.screen import cli as screen_cli
    from trueorigin.server import cli as server_cli
    from trueorigin.store import cli as store_cli

    for area in (
        kb_cli,
        fingerprints_cli,
        identify_cli,
        lab_cli,
        scan_cli,
        screen_cli,
        passive_cli,
        store_cli,
        report_cli,
        server_cli,
    ):
        area.register(app)


def _mapped_errors(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Library errors become a one-line message and their exit code, in every command, also under test runners."""

    @functools.wraps(callback)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except TrueOriginError as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def _wrap_commands(typer_app: typer.Typer) -> None:
    for command in typer_app.registered_commands:
        if command.callback is not None and not getattr(command.callback, "__wrapped__", None):
            command.callback = _mapped_errors(command.callback)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _wrap_commands(group.typer_instance)


_register_all()
_wrap_commands(app)


def main() -> None:
    try:
        app()
    except TrueOriginError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        sys.exit(exc.exit_code)
