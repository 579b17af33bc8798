"""`trueorigin scan`: network audit of the ranges the user names (registered by trueorigin.cli)."""

from __future__ import annotations

import contextlib
import os
import resource
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from trueorigin.errors import EXIT_INTERRUPTED, InputError
from trueorigin.scan.engine import DEFAULT_TCP_PORTS, ScanStats
from trueorigin.scan.output import exit_code, render_table, write_csv, write_json_lines
from trueorigin.scan.run import ScanOutcome, ScanRequest, run_scan
from trueorigin.scan.targets import DEFAULT_MAX_HOSTS
from trueorigin.terminal import Styled, line

MAX_PORTS = 1024
DEFAULT_PORTS_TEXT = ",".join(str(p) for p in DEFAULT_TCP_PORTS)


def parse_ports(text: str) -> tuple[int, ...]:
    """'80,443,8000-8010' -> sorted unique ports; raises InputError."""
    ports: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        low_text, dash, high_text = part.partition("-")
        try:
            low = int(low_text)
            high = int(high_text) if dash else low
        except ValueError as exc:
            raise InputError(f"bad port {part!r} in --ports") from exc
        if not 1 <= low <= high <= 65535:
            raise InputError(f"port range {part!r} is outside 1-65535")
        ports.update(range(low, high + 1))
        if len(ports) > MAX_PORTS:
            raise InputError(f"--ports names more than {MAX_PORTS} ports")
    if not ports:
        raise InputError("--ports is empty")
    return tuple(sorted(ports))


def _raise_fd_limit() -> None:
    # each host in flight holds several sockets; use the hard limit the administrator allows
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1 << 20), hard))


def _progress_wanted(console: Console) -> bool:
    return console.is_terminal and not os.environ.get("CI")


# CLI parameter -> the stored option it sets; with --resume, a parameter the user names must match it
_RESUME_CHECKED = {
    "exclude": "exclude",
    "ports": "ports",
    "rate": "rate",
    "concurrency": "concurrency",
    "per_host": "per_host_concurrency",
    "timeout": "timeout",
    "allow_public": "allow_public",
    "max_hosts": "max_hosts",
    "multicast": "multicast_iface",
    "no_udp": "udp_discovery",
}


def _named_again(ctx: typer.Context, request: ScanRequest) -> dict[str, Any]:
    """Stored-option values of the parameters the user typed (or set by environment) with --resume."""
    stored = request.stored_options()
    given: dict[str, Any] = {}
    for param, key in _RESUME_CHECKED.items():
        source = ctx.get_parameter_source(param)
        # compared by name: the enum lives in Typer's private copy of click
        if source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT"):
            given[key] = stored[key]
    return given


def register(app: typer.Typer) -> None:
    """Add `scan` to the root app."""

    @app.command("scan")
    def scan_command(
        ctx: typer.Context,
        targets: Annotated[
            list[str] | None,
            typer.Argument(help="Addresses, CIDRs, ranges (a-b or a.b.c.d-N), hostnames, @file or file paths."),
        ] = None,
        exclude: Annotated[
            list[str] | None, typer.Option("--exclude", "-x", help="Targets never to touch (always wins).")
        ] = None,
        ports: Annotated[str, typer.Option("--ports", "-p", help="TCP ports for discovery: 80,443,8000-8010.")] = (
            DEFAULT_PORTS_TEXT
        ),
        credentials: Annotated[
            Path | None,
            typer.Option("--credentials", help="YAML/JSON/CSV of {targets, username, password, snmp_community}."),
        ] = None,
        rate: Annotated[
            float, typer.Option("--rate", min=0.1, help="New connections + datagrams per second, in all.")
        ] = 1000.0,
        concurrency: Annotated[
            int, typer.Option("--concurrency", min=1, max=65536, help="Hosts scanned at once.")
        ] = 256,
        per_host: Annotated[
            int, typer.Option("--per-host", min=1, max=256, help="Connections at once to one host.")
        ] = 8,
        timeout: Annotated[
            float, typer.Option("--timeout", min=0.05, max=120.0, help="Seconds per connect or read.")
        ] = 2.0,
        db: Annotated[
            str | None,
            typer.Option("--db", envvar="TRUEORIGIN_DB", help="Store URL (default sqlite:///trueorigin.db)."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON line per responding host.")] = False,
        as_csv: Annotated[bool, typer.Option("--csv", help="CSV, one row per responding host.")] = False,
        resume: Annotated[
            str | None, typer.Option("--resume", help="Continue scan SCAN_ID: finished hosts are skipped.")
        ] = None,
        allow_public: Annotated[
            bool, typer.Option("--allow-public", help="Allow globally routable addresses.")
        ] = False,
        max_hosts: Annotated[
            int, typer.Option("--max-hosts", min=1, help="Refuse target sets larger than this (confirms big scans).")
        ] = DEFAULT_MAX_HOSTS,
        multicast: Annotated[
            str | None,
            typer.Option(
                "--multicast", help="Also run multicast discovery on this interface (answers from targets only)."
            ),
        ] = None,
        no_udp: Annotated[bool, typer.Option("--no-udp", help="Skip unicast UDP discovery probes.")] = False,
        site: Annotated[str | None, typer.Option("--site", help="Site name recorded with the scan.")] = None,
    ) -> None:
        """Audit the hosts you name: discover, fingerprint, identify the true manufacturer, store the evidence.

        Exit codes: 0 nothing covered, 1 covered found, 3 only hosts needing review, 2 bad input (README).
        """
        # a pipe gets a wide table instead of Rich's 80-column default, so addresses are never cut
        out = Console(file=sys.stdout) if sys.stdout.isatty() else Console(file=sys.stdout, width=200)
        err = Console(stderr=True)
        if as_json and as_csv:
            raise InputError("choose one of --json and --csv")
        if resume is None and not targets:
            raise InputError("name at least one target (or --resume SCAN_ID)")
        if resume is not None and targets:
            raise InputError("--resume reuses the stored scan's targets; do not name targets with it")

        progress: Progress | None = None
        task: TaskID | None = None
        try:
            named = ScanRequest(
                targets=list(targets or []),
                exclude=list(exclude or []),
                ports=parse_ports(ports),
                credentials_path=credentials,
                rate=rate,
                concurrency=concurrency,
                per_host_concurrency=per_host,
                timeout=timeout,
                allow_public=allow_public,
                max_hosts=max_hosts,
                multicast_iface=multicast,
                udp_discovery=not no_udp,
                site=site,
            )
            request = named if resume is None else None
            given = _named_again(ctx, named) if resume is not None else {}
            if resume is not None and site is not None:
                given["site"] = site
            _raise_fd_limit()
            if _progress_wanted(err):
                progress = Progress(
                    TextColumn("[bold]scan[/bold]"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("found {task.fields[found]} · covered {task.fields[covered]} · {task.fields[rate]} h/s"),
                    TimeRemainingColumn(),
                    console=err,
                    transient=True,
                )

            def on_start(scan_id: str, total: int, already: int) -> None:
                nonlocal task
                err.print(f"scan {scan_id}: {total} addresses" + (f", {already} already done" if already else ""))
                if progress is not None:
                    progress.start()
                    task = progress.add_task("scan", total=total, completed=already, found=0, covered=0, rate="0")

            def on_progress(stats: ScanStats) -> None:
                if progress is not None and task is not None:
                    speed = progress.tasks[task].speed or 0.0
                    progress.update(task, advance=1, found=stats.responding, covered=stats.covered, rate=f"{speed:.0f}")

            outcome: ScanOutcome = run_scan(
                request,
                db_url=db,
                resume=resume,
                credentials_path=credentials,
                on_start=on_start,
                on_progress=on_progress,
                on_warning=lambda text: err.print(line(Styled("warning:", "yellow"), " ", text)),
                resume_options=given,
            )
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/yellow]: finished hosts are stored; continue with --resume SCAN_ID")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        finally:
            if progress is not None:
                progress.stop()

        idents = outcome.identifications
        if as_json:
            write_json_lines(idents, sys.stdout)
        elif as_csv:
            write_csv(idents, sys.stdout)
        else:
            render_table(idents, out, title=f"scan {outcome.scan_id}")
        stats = outcome.stats
        err.print(
            f"scan {outcome.scan_id}: {stats.hosts_done} hosts scanned now, {outcome.skipped_hosts} done before, "
            f"{len(idents)} responding, {sum(i.covered == 'yes' for i in idents)} covered, "
            f"{sum(i.covered == 'review' for i in idents)} to review"
        )
        raise typer.Exit(exit_code(idents))
