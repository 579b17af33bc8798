"""`trueorigin passive` (captures) and `trueorigin import` (nmap XML, asset exports)."""

from __future__ import annotations

from pathlib import Path

import typer

from trueorigin.audit import audit_collected
from trueorigin.errors import InputError, verdict_exit_code
from trueorigin.identify_cli import print_identifications
from trueorigin.model import Identification
from trueorigin.passive.capture import CaptureReader
from trueorigin.passive.imports import read_asset_csv, read_nmap_xml
from trueorigin.terminal import Styled, line
from trueorigin.terminal import console as make_console

DB_HELP = "Store URL (default sqlite:///trueorigin.db); results are stored like a scan's."


def _finish(
    idents: list[Identification], scan_id: str | None, as_json: bool, everything: bool, damaged: bool = False
) -> None:
    shown = idents if everything else [i for i in idents if i.vendor or i.brand or i.model or i.mac]
    print_identifications(shown, as_json)
    if scan_id and not as_json:
        make_console(stderr=True).print(line("stored as scan ", Styled(scan_id, "bold")))
    raise typer.Exit(verdict_exit_code((i.covered for i in idents), damaged=damaged))


def register(app: typer.Typer) -> None:
    @app.command("passive")
    def passive(
        capture: Path = typer.Argument(..., help="A pcap or pcapng file."),
        as_json: bool = typer.Option(False, "--json", help="One JSON line per host."),
        db: str | None = typer.Option(None, "--db", envvar="TRUEORIGIN_DB", help=DB_HELP),
        site: str | None = typer.Option(None, "--site", help="Site name recorded with the results."),
        no_store: bool = typer.Option(False, "--no-store", help="Do not write results to the store."),
        all_hosts: bool = typer.Option(False, "--all", help="Also list hosts nothing was learned about."),
    ) -> None:
        """Identify devices from a packet capture, sending nothing on the network.

        Exit code: 0 nothing covered, 1 covered found, 3 review only, 2 bad input, 4 damaged input (README).
        """
        if not capture.is_file():
            raise InputError(f"no such capture file: {capture}")
        reader = CaptureReader(capture)
        scan_id, idents = audit_collected(
            reader.observations(),
            kind="passive",
            targets=[str(capture)],
            options={"source": str(capture)},
            db_url=db,
            site=site,
            store_results=not no_store,
        )
        if reader.skipped:
            message = f"{reader.skipped} of {reader.packets} packets could not be decoded"
            make_console(stderr=True).print(line(Styled(message, "yellow")))
        _finish(idents, scan_id, as_json, all_hosts)

    @app.command("import")
    def import_(
        path: Path = typer.Argument(..., help="nmap XML (-oX) or a CSV asset export."),
        fmt: str = typer.Option("auto", "--format", help="auto, nmap or csv."),
        as_json: bool = typer.Option(False, "--json", help="One JSON line per host."),
        db: str | None = typer.Option(None, "--db", envvar="TRUEORIGIN_DB", help=DB_HELP),
        site: str | None = typer.Option(None, "--site", help="Site name recorded with the results."),
        no_store: bool = typer.Option(False, "--no-store", help="Do not write results to the store."),
    ) -> None:
        """Identify devices from an existing nmap scan or asset inventory export.

        Exit code: 0 nothing covered, 1 covered found, 3 review only, 2 bad input, 4 damaged input (README).
        """
        if not path.is_file():
            raise InputError(f"no such file: {path}")
        kind = fmt.lower()
        if kind == "auto":
            head = path.open("rb").read(512).lstrip()
            kind = "nmap" if head.startswith(b"<?xml") or head.startswith(b"<nmaprun") else "csv"
        if kind == "nmap":
            observations = list(read_nmap_xml(path))
        elif kind == "csv":
            observations = list(read_asset_csv(path))
        else:
            raise InputError(f"unknown --format {fmt!r}: use auto, nmap or csv")
        if not observations:
            raise InputError(f"{path}: no hosts with usable facts")
        scan_id, idents = audit_collected(
            observations,
            kind=f"import-{kind}",
            targets=[str(path)],
            options={"source": str(path)},
            db_url=db,
            site=site,
            store_results=not no_store,
        )
        _finish(idents, scan_id, as_json, True)
