"""Commands of the lab area (registered by trueorigin.cli): `trueorigin lab up|run|down`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from trueorigin.lab.site import DEFAULT_CIDR, DEFAULT_NAMESPACE, MIXES, LabSite
from trueorigin.safetext import terminal_markup

lab_app = typer.Typer(help="The device lab: a simulated site of real-looking devices in its own network namespace.")
console = Console()
err_console = Console(stderr=True)


@lab_app.command("up")
def up(
    hosts: int = typer.Option(50, "--hosts", min=1, help="Number of live devices."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same site."),
    mix: str = typer.Option("default", "--mix", help=f"Device mix: {', '.join(sorted(MIXES))}."),
    cidr: str = typer.Option(DEFAULT_CIDR, "--cidr", help="Site range (inside the namespace)."),
    manifest: Path | None = typer.Option(None, "--manifest", help="Where to write the ground-truth manifest."),
    namespace: str = typer.Option(DEFAULT_NAMESPACE, "--namespace", help="Network namespace name."),
    l2: bool = typer.Option(
        False, "--l2", help="Devices on a real Ethernet segment (bridge, one veth and MAC each); unicast only."
    ),
) -> None:
    """Create the namespace and addresses, start the simulator, write the manifest."""
    site = LabSite(hosts=hosts, seed=seed, mix=mix, cidr=cidr, namespace=namespace, manifest_path=manifest, l2=l2)
    built = site.up()
    covered = sum(1 for h in built["hosts"] if h["covered"] == "yes")
    console.print(f"namespace: {built['namespace'] or '(none: 127.0.0.0/8 loopback fallback)'}")
    console.print(f"cidr: {built['cidr']}")
    console.print(f"manifest: {site.manifest_path}")
    console.print(f"hosts: {len(built['hosts'])} ({covered} covered), mode: {built['mode']}")


@lab_app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(
    ctx: typer.Context,
    namespace: str = typer.Option(DEFAULT_NAMESPACE, "--namespace", help="Network namespace name."),
) -> None:
    """Run a command inside the lab's namespace: `trueorigin lab run -- CMD ARGS...`."""
    command = list(ctx.args)
    try:
        result = LabSite(namespace=namespace).run(command)
    except FileNotFoundError as exc:
        err_console.print(f"[red]error:[/red] command not found: {terminal_markup(exc.filename)}")
        raise typer.Exit(127) from None
    raise typer.Exit(result.returncode)


@lab_app.command("down")
def down(namespace: str = typer.Option(DEFAULT_NAMESPACE, "--namespace", help="Network namespace name.")) -> None:
    """Stop the simulator and remove the namespace."""
    LabSite(namespace=namespace).down()
    console.print(f"lab {namespace} is down")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(lab_app, name="lab")
