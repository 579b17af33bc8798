"""Root command line. Each area registers its own commands from its package's `cli.py`."""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from typing import Any

import typer
from rich.markup import escape

from trueorigin import __version__
from trueorigin.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, TrueOriginError
from trueorigin.safetext import visible
from trueorigin.terminal import console as make_console

app = typer.Typer(
    name="trueorigin",
    help="Find equipment made by covered vendors (NDAA §889, FCC Covered List), relabeled or not, and prove it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = make_console(stderr=True, soft_wrap=True, highlight=False)
MAX_MESSAGE_CHARS = 500  # an error message quotes input; a hostile or huge input must not flood the terminal
_debug = False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"trueorigin {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    debug: bool = typer.Option(False, "--debug", help="Print the traceback of an internal error (exit code 70)."),
) -> None:
    """trueorigin: which of our devices were really made by a covered vendor?

    Exit codes (every command): 0 clean, 1 covered found (or the check failed), 2 bad input, 3 review only,
    4 damaged input, 70 internal error, 130 interrupted. See README "Reliability".
    """
    global _debug
    _debug = debug


def _register_all() -> None:
    # Imported here so a broken area cannot stop `--help` of the others from loading in tests.
    from trueorigin import identify_cli
    from trueorigin.audit import cli as audit_cli
    from trueorigin.fingerprints import cli as fingerprints_cli
    from trueorigin.knowledge import cli as kb_cli
    from trueorigin.lab import cli as lab_cli
    from trueorigin.passive import cli as passive_cli
    from trueorigin.report import cli as report_cli
    from trueorigin.scan import cli as scan_cli
    from trueorigin.screen import cli as screen_cli
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
        audit_cli,
        report_cli,
    ):
        area.register(app)


def one_line(text: str) -> str:
    """An error message as one short, inert terminal line: control characters shown escaped, length capped."""
    flat = visible(text)
    if len(flat) > MAX_MESSAGE_CHARS:
        flat = flat[:MAX_MESSAGE_CHARS] + f"... ({len(flat) - MAX_MESSAGE_CHARS} more characters)"
    return flat


def exit_code_of(exc: BaseException) -> int:
    """THE place where an error becomes a message on stderr and an exit code (see trueorigin.errors)."""
    if isinstance(exc, TrueOriginError):
        err_console.print(f"[red]error:[/red] {escape(one_line(str(exc)))}")
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        err_console.print("[yellow]interrupted[/yellow]")
        return EXIT_INTERRUPTED
    if _debug:
        sys.stderr.write("".join(traceback.format_exception(exc)))
    detail = one_line(f"{type(exc).__name__}: {exc}")
    hint = "" if _debug else " (run with --debug for the traceback)"
    err_console.print(f"[red]internal error:[/red] {escape(detail)}{hint}")
    return EXIT_INTERNAL


def _mapped_errors(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Every command's errors go through `exit_code_of`, also under test runners (CliRunner)."""

    @functools.wraps(callback)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # typer.Exit and usage errors carry their own code
        except (Exception, KeyboardInterrupt) as exc:
            raise typer.Exit(exit_code_of(exc)) from None

    return wrapper


def _wrap_commands(typer_app: typer.Typer) -> None:
    for command in typer_app.registered_commands:
        if command.callback is not None and not getattr(command.callback, "__wrapped__", None):
            command.callback = _mapped_errors(command.callback)
    info = typer_app.registered_callback
    if info is not None and info.callback is not None and not getattr(info.callback, "__wrapped__", None):
        info.callback = _mapped_errors(info.callback)  # a group's own callback (e.g. `report`) is a command too
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _wrap_commands(group.typer_instance)


_register_all()
_wrap_commands(app)


def main() -> None:
    try:
        app()
    except (Exception, KeyboardInterrupt) as exc:  # raised outside a command (option parsing, app start-up)
        sys.exit(exit_code_of(exc))
