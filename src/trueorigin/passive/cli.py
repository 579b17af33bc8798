"""`trueorigin passive` (captures) and `trueorigin import` (nmap XML, asset exports)."""

from __future__ import annotations

import itertools
from pathlib import Path

import typer

from trueorigin.audit import audit_collected
from trueorigin.errors import InputError, verdict_exit_code
from trueorigin.identify_cli import print_identifications
from trueorigin.model import Identification
from trueorigin.passive.capture import CaptureReader
from trueorigin.passive.imports import ImportStats, asset_sites, read_asset_csv, read_nmap_xml
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
        err = make_console(stderr=True)
        if reader.skipped:
            err.print(line(Styled(f"{reader.skipped} of {reader.packets} packets could not be decoded", "yellow")))
        damage = reader.damage_report()
        if damage is not None:  # never a clean audit: what follows covers only the part before the damage
            err.print(line(Styled("damaged:", "red"), " ", damage))
        _finish(idents, scan_id, as_json, all_hosts, damaged=damage is not None)

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

        An asset export's `site` column puts each row in that site (one stored scan per site); --site is the
        site of rows without one. Hosts whose address is not an IP address and ports outside 0-65535 are
        skipped and counted on stderr.

        Exit code: 0 nothing covered, 1 covered found, 3 review only, 2 bad input, 4 damaged input (README).
        """
        if not path.is_file():
            raise InputError(f"no such file: {path}")
        kind = fmt.lower()
        if kind == "auto":
            with path.open("rb") as handle:
                head = handle.read(512).lstrip()
            kind = "nmap" if head.startswith(b"<?xml") or head.startswith(b"<nmaprun") else "csv"
        if kind not in ("nmap", "csv"):
            raise InputError(f"unknown --format {fmt!r}: use auto, nmap or csv")
        stats = ImportStats()
        # The asset export's `site` column wins; --site names the site of rows without one. One scan per site.
        sites = asset_sites(path) if kind == "csv" else [""]
        idents: list[Identification] = []
        scan_ids: list[str] = []
        for row_site in sites:
            observations = read_nmap_xml(path, stats) if kind == "nmap" else read_asset_csv(path, stats, site=row_site)
            first = next(observations, None)
            if first is None:
                continue
            scan_id, found = audit_collected(
                itertools.chain([first], observations),
                kind=f"import-{kind}",
                targets=[str(path)],
                options={"source": str(path), **({"site_column": row_site} if row_site else {})},
                db_url=db,
                site=row_site or site,
                store_results=not no_store,
            )
            idents.extend(found)
            scan_ids += [scan_id] if scan_id else []
        err = make_console(stderr=True)
        for message in stats.lines():
            err.print(line(Styled(message, "yellow")))
        if not idents:
            raise InputError(f"{path}: no hosts with usable facts")
        _finish(idents, ", ".join(scan_ids) or None, as_json, True)
