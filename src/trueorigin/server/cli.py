"""`trueorigin serve` and `trueorigin users add|list|role|disable|enable|token` (registered by trueorigin.cli).

Passwords are read from a prompt (twice, not echoed) or from standard input (`--password-stdin`, first line),
never from the command line, where other users could read them in the process list.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Table

from trueorigin.errors import InputError
from trueorigin.store.api import iso_time, open_store
from trueorigin.store.cli import DB_HELP

users_app = typer.Typer(
    help="Accounts of the server: add users (the first admin too), roles, API tokens.", no_args_is_help=True
)
DbOption = typer.Option(None, "--db", envvar="TRUEORIGIN_DB", help=DB_HELP)


def serve_command(
    db: str | None = DbOption,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (behind a reverse proxy: 127.0.0.1)."),
    port: int = typer.Option(8080, "--port", min=1, max=65535),
    trust_proxy: bool = typer.Option(
        False, "--trust-proxy", help="Honour X-Forwarded-Proto/-For (only when a reverse proxy you run sets them)."
    ),
    secure_cookies: bool = typer.Option(False, "--secure-cookies", help="Always mark cookies Secure (TLS)."),
) -> None:
    """Serve the dashboard and the REST API (/api/v1, OpenAPI at /api/v1/openapi.json) over the store."""
    import uvicorn

    from trueorigin.server.app import create_app
    from trueorigin.server.security import ServerSettings

    store = open_store(db)
    settings = ServerSettings(trust_proxy=trust_proxy, force_secure_cookies=secure_cookies)
    app = create_app(store, settings)
    Console(stderr=True).print(
        f"trueorigin dashboard on http://{host}:{port}/ (store {db or 'trueorigin.db'})", highlight=False
    )
    # proxy_headers off: the app itself decides whether to trust X-Forwarded-* (--trust-proxy).
    uvicorn.run(app, host=host, port=port, proxy_headers=False, server_header=False, log_level="info")


def _read_password(stdin: bool) -> str:
    if stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = typer.prompt("password", hide_input=True)
    second = typer.prompt("again", hide_input=True)
    if first != second:
        raise InputError("the two passwords differ")
    return str(first)


@users_app.command("add")
def add_command(
    name: str = typer.Argument(..., help="User name (letters, digits, . _ @ -)."),
    role: str = typer.Option(
        ..., "--role", help="admin, auditor (decides findings, waivers, screening rows) or viewer."
    ),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    db: str | None = DbOption,
) -> None:
    """Add a user; the password is asked for (or read from stdin), never taken from the command line."""
    from trueorigin.server.accounts import Accounts, check_name, check_password, check_role

    check_name(name)
    check_role(role)
    password = _read_password(password_stdin)
    check_password(password)
    with open_store(db) as store:
        Accounts(store).add_user(name, role, password, actor="cli")
    Console().print(f"added {name} ({role})", highlight=False)


@users_app.command("list")
def list_command(db: str | None = DbOption) -> None:
    """List users and their roles."""
    from trueorigin.server.accounts import Accounts

    with open_store(db) as store:
        table = Table(title="users", title_justify="left")
        for column in ("name", "role", "state", "last sign-in"):
            table.add_column(column)
        for user in Accounts(store).users():
            table.add_row(
                user["name"],
                user["role"],
                "disabled" if user["disabled"] else "active",
                iso_time(user["last_login"]) or "",
            )
        Console().print(table)


@users_app.command("role")
def role_command(name: str = typer.Argument(...), role: str = typer.Argument(...), db: str | None = DbOption) -> None:
    """Change a user's role."""
    from trueorigin.server.accounts import Accounts

    with open_store(db) as store:
        Accounts(store).set_role(name, role, actor="cli")


@users_app.command("disable")
def disable_command(name: str = typer.Argument(...), db: str | None = DbOption) -> None:
    """Disable a user (their sessions end at once; their tokens stop working)."""
    from trueorigin.server.accounts import Accounts

    with open_store(db) as store:
        Accounts(store).set_disabled(name, True, actor="cli")


@users_app.command("enable")
def enable_command(name: str = typer.Argument(...), db: str | None = DbOption) -> None:
    from trueorigin.server.accounts import Accounts

    with open_store(db) as store:
        Accounts(store).set_disabled(name, False, actor="cli")


@users_app.command("token")
def token_command(
    name: str = typer.Argument(..., help="The user the token acts as."),
    label: str = typer.Option(..., "--label", help="What the token is for (e.g. sensor-site-a)."),
    scope: str = typer.Option("read", "--scope", help="read or write."),
    db: str | None = DbOption,
) -> None:
    """Create an API token for a user and print it once (for scripts and sensors)."""
    from sqlalchemy import select

    from trueorigin.server.accounts import Accounts, Principal
    from trueorigin.store.accounts import UserRow

    with open_store(db) as store:
        accounts = Accounts(store)
        with accounts.session() as session:
            user = session.scalar(select(UserRow).where(UserRow.name == name))
            if user is None:
                raise InputError(f"no user {name!r}")
            principal = Principal(user.id, user.name, user.role, "cli")
        _id, secret = accounts.create_token(principal, label, scope, remote="cli")
    typer.echo(secret)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("serve")(serve_command)
    app.add_typer(users_app, name="users")
