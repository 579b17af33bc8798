"""`trueorigin sensor | worker | beat | sites ... | alerts ...`: audits across many sites on Celery."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from trueorigin.errors import InputError
from trueorigin.scan.cli import DEFAULT_PORTS_TEXT, parse_ports
from trueorigin.store import open_store
from trueorigin.store.cli import DbOption, JsonOption
from trueorigin.terminal import console as make_console
from trueorigin.terminal import print_table

BrokerOption = typer.Option(
    ..., "--broker", envvar="TRUEORIGIN_BROKER", help="Celery broker URL: amqp://user:pass@host/vhost or redis://..."
)
sites_app = typer.Typer(help="Sites: audit jobs, schedules and sensor health.", no_args_is_help=True)
schedule_app = typer.Typer(help="Recurring audits of a site (cron expressions, kept in the database).")
alerts_app = typer.Typer(help="Where alerts about covered devices go (webhook, email, syslog CEF).")
sites_app.add_typer(schedule_app, name="schedule")


def _out() -> Console:
    return make_console(width=200) if not sys.stdout.isatty() else make_console()


def _show(
    records: list[dict[str, Any]], as_json: bool, title: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """A listing as JSON (one document) or as a table through the one terminal renderer."""
    if as_json:
        typer.echo(json.dumps(records, indent=1))
    else:
        print_table(_out(), title, columns, rows)


def _request(
    site: str, targets: list[str], exclude: list[str] | None, ports: str, rate: float, timeout: float, max_hosts: int
) -> dict[str, object]:
    from trueorigin.sites.service import audit_request

    return audit_request(
        site, targets, exclude=list(exclude or []), ports=list(parse_ports(ports)), rate=rate, timeout=timeout,
        max_hosts=max_hosts,
    )  # fmt: skip


def sensor_command(
    site: Annotated[str, typer.Option("--site", help="The site this sensor audits (its queue).")],
    broker: str = BrokerOption,
    name: Annotated[str, typer.Option("--name", help="Sensor name in health reports.")] = socket.gethostname(),
    credentials: Annotated[
        Path | None, typer.Option("--credentials", help="This site's logins (read here; never sent anywhere).")
    ] = None,
    allow_public: Annotated[bool, typer.Option("--allow-public", help="Let jobs name public addresses.")] = False,
    lab_netns: Annotated[
        str | None,
        typer.Option("--lab-netns", help="Lab and tests only: run the scanner inside this network namespace."),
    ] = None,
) -> None:
    """Run a site sensor: a Celery worker on the site's queue that scans and sends observations to ingest."""
    from trueorigin.sites.sensor import Sensor, SensorConfig

    config = SensorConfig(
        site=site, broker_url=broker, name=name, credentials=credentials, lab_netns=lab_netns,
        allow_public=allow_public,
    )  # fmt: skip
    sensor = Sensor(config)
    for warning in sensor.book.warnings:
        Console(stderr=True).print(f"[yellow]warning:[/yellow] {escape(warning)}")
    sensor.run_forever()


def worker_command(
    broker: str = BrokerOption,
    db: str | None = DbOption,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64, help="Worker processes.")] = 1,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Dashboard URL, for the finding links in alerts.")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Worker name.")] = f"ingest-{os.getpid()}",
) -> None:
    """Run an ingest worker: identifies sensors' observations through the audit pipeline into the store."""
    from trueorigin.sites.worker import build_worker_app, worker_argv

    open_store(db).close()  # create or upgrade the schema once, before the processes fork
    app, _central = build_worker_app(broker, db, base_url)
    app.worker_main(worker_argv(concurrency, f"{name}@{socket.gethostname()}"))


def beat_command(
    broker: str = BrokerOption,
    schedule_file: Annotated[
        Path, typer.Option("--state", help="Celery beat's own state file (the schedules are in the database).")
    ] = Path("trueorigin-beat.state"),
) -> None:
    """Run Celery beat: every 30 s it asks an ingest worker to start due scheduled audits and send alerts."""
    from trueorigin.sites.worker import build_worker_app

    app, _central = build_worker_app(broker, None)
    app.Beat(schedule=str(schedule_file), loglevel="WARNING").run()


def sites_add(
    site: Annotated[str, typer.Argument(help="Site name: lower-case letters, digits, dashes.")],
    broker: str = BrokerOption,
    db: str | None = DbOption,
    description: Annotated[str, typer.Option("--description")] = "",
) -> None:
    """Add a site and declare its queues on the broker."""
    from trueorigin.sites.broker import declare_site, make_app
    from trueorigin.sites.messages import check_site_name

    check_site_name(site)
    with open_store(db) as store:
        store.add_site(site, description)
    declare_site(make_app(broker), site)
    Console(stderr=True).print(f"site {escape(site)} added; its sensors consume queue trueorigin.site.{escape(site)}")


def sites_provision(
    site: Annotated[str, typer.Argument()],
    vhost: Annotated[str, typer.Option("--vhost", help="RabbitMQ virtual host.")] = "/",
    print_only: Annotated[bool, typer.Option("--print", help="Print the rabbitmqctl commands instead.")] = False,
) -> None:
    """Give a site's sensor its own RabbitMQ user that may read only its site's queues and publish only its
    site's observations (password read from standard input, never from the command line)."""
    import shlex

    from trueorigin.sites.broker import provision_commands, run_provision, sensor_user

    if print_only:
        for command in provision_commands(site, vhost, "PASSWORD"):
            typer.echo(shlex.join(command))
        return
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise InputError("give the sensor's new password on standard input")
    run_provision(site, vhost, password)
    Console(stderr=True).print(f"user {sensor_user(site)} may now consume site {escape(site)} on vhost {escape(vhost)}")


def sites_audit(
    site: Annotated[str, typer.Argument()],
    targets: Annotated[list[str], typer.Argument(help="Addresses, CIDRs, ranges at that site.")],
    broker: str = BrokerOption,
    db: str | None = DbOption,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", "-x")] = None,
    ports: Annotated[str, typer.Option("--ports", "-p")] = DEFAULT_PORTS_TEXT,
    rate: Annotated[float, typer.Option("--rate", min=0.1)] = 300.0,
    timeout: Annotated[float, typer.Option("--timeout", min=0.05, max=60)] = 2.0,
    max_hosts: Annotated[int, typer.Option("--max-hosts", min=1)] = 65_536,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=4096, help="Hosts at once.")] = 128,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for the job to finish (0: don't).")] = 0.0,
) -> None:
    """Send an audit to the site's sensors now; prints the job id (and waits for it with --wait)."""
    from trueorigin.sites.broker import make_app, publish_job
    from trueorigin.sites.service import Sites

    request = {**_request(site, targets, exclude, ports, rate, timeout, max_hosts), "concurrency": concurrency}
    with open_store(db) as store:
        sites = Sites(store)
        job = sites.create_job(site, request)
        publish_job(make_app(broker), job.model_dump(mode="json"))
        typer.echo(job.job_id)
        deadline = time.monotonic() + wait
        while wait and time.monotonic() < deadline:
            record = sites.require_job(job.job_id)
            if record.status not in ("queued", "running"):
                Console(stderr=True).print(f"job {job.job_id}: {record.status}, {record.hosts_done} hosts")
                raise typer.Exit(0 if record.status == "complete" else 2)
            time.sleep(1.0)
        if wait:
            raise InputError(f"job {job.job_id} did not finish within {wait:g} s")


def sites_cancel(
    job_id: Annotated[str, typer.Argument()], broker: str = BrokerOption, db: str | None = DbOption
) -> None:
    """Cancel an audit job: its sensor stops at the next batch; what was sent stays stored."""
    from trueorigin.sites.broker import make_app, publish_cancel
    from trueorigin.sites.service import Sites

    with open_store(db) as store:
        record = Sites(store).cancel_job(job_id)
    publish_cancel(make_app(broker), record.site, record.id)
    Console(stderr=True).print(f"job {escape(record.id)}: {record.status}")


def sites_jobs(
    site: Annotated[str | None, typer.Option("--site")] = None, db: str | None = DbOption, as_json: bool = JsonOption
) -> None:
    """Audit jobs, newest first, with progress."""
    from trueorigin.sites.service import Sites

    with open_store(db, create=False) as store:  # reading: a mistyped store is an error, never created
        jobs = Sites(store).jobs(site)
    rows = [(j.id, j.site, j.status, j.hosts_done, j.observations, j.sensor or "", j.scan_id) for j in jobs]
    columns = ("job", "site", "status", "hosts done", "observations", "sensor", "scan")
    _show([j.to_json() for j in jobs], as_json, "audit jobs", columns, rows)


def sites_sensors(
    site: Annotated[str | None, typer.Option("--site")] = None, db: str | None = DbOption, as_json: bool = JsonOption
) -> None:
    """Sensor health: version, state, progress, last heartbeat."""
    from trueorigin.sites.service import Sites

    with open_store(db, create=False) as store:  # reading: a mistyped store is an error, never created
        sensors = Sites(store).sensors(site)
    rows = [
        (s.site, s.name, s.version, s.state, f"{s.hosts_done}/{s.hosts_total}",
         time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(s.last_seen)), "yes" if s.healthy() else "NO")
        for s in sensors
    ]  # fmt: skip
    columns = ("site", "sensor", "version", "state", "progress", "last seen", "healthy")
    _show([s.to_json() for s in sensors], as_json, "sensors", columns, rows)


def schedule_add(
    site: Annotated[str, typer.Argument()],
    cron: Annotated[str, typer.Option("--cron", help="5-field cron expression, UTC: '0 2 * * 1'.")],
    targets: Annotated[list[str], typer.Argument()],
    db: str | None = DbOption,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", "-x")] = None,
    ports: Annotated[str, typer.Option("--ports", "-p")] = DEFAULT_PORTS_TEXT,
    rate: Annotated[float, typer.Option("--rate", min=0.1)] = 300.0,
    timeout: Annotated[float, typer.Option("--timeout", min=0.05, max=60)] = 2.0,
    max_hosts: Annotated[int, typer.Option("--max-hosts", min=1)] = 65_536,
) -> None:
    """Audit a site on a schedule (run by `trueorigin beat` and an ingest worker)."""
    from trueorigin.sites.service import Sites

    with open_store(db) as store:
        schedule = Sites(store).add_schedule(
            site, cron, _request(site, targets, exclude, ports, rate, timeout, max_hosts)
        )
    typer.echo(json.dumps(schedule.to_json()))


def schedule_list(
    site: Annotated[str | None, typer.Option("--site")] = None, db: str | None = DbOption, as_json: bool = JsonOption
) -> None:
    from trueorigin.sites.service import Sites

    with open_store(db, create=False) as store:  # reading: a mistyped store is an error, never created
        schedules = Sites(store).schedules(site)
    rows = [
        (s.id, s.site, s.cron, s.enabled, time.strftime("%Y-%m-%d %H:%M", time.gmtime(s.next_run())),
         " ".join(s.request["targets"]))
        for s in schedules
    ]  # fmt: skip
    _show(
        [s.to_json() for s in schedules],
        as_json,
        "schedules",
        ("id", "site", "cron", "enabled", "next run", "targets"),
        rows,
    )


def schedule_set(
    schedule_id: Annotated[int, typer.Argument()],
    cron: Annotated[str | None, typer.Option("--cron")] = None,
    enable: Annotated[bool | None, typer.Option("--enable/--disable")] = None,
    db: str | None = DbOption,
) -> None:
    from trueorigin.sites.service import Sites

    with open_store(db) as store:
        schedule = Sites(store).update_schedule(schedule_id, cron=cron, enabled=enable)
    typer.echo(json.dumps(schedule.to_json()))


def alerts_add(
    kind: Annotated[str, typer.Argument(help="webhook, email or syslog")],
    address: Annotated[
        str, typer.Argument(help="https://..., smtp://HOST:PORT/to@example.org, syslog://HOST:514 or syslog+tcp://")
    ],
    site: Annotated[str | None, typer.Option("--site", help="Only this site's alerts.")] = None,
    secret_env: Annotated[
        str | None, typer.Option("--secret-env", help="Environment variable holding the webhook's HMAC secret.")
    ] = None,
    db: str | None = DbOption,
) -> None:
    """Send alerts when a covered device appears, reappears after removal, or a waiver expires."""
    from trueorigin.sites.alerts import add_target

    secret = os.environ.get(secret_env) if secret_env else None
    if secret_env and not secret:
        raise InputError(f"environment variable {secret_env} is empty")
    with open_store(db) as store:
        target = add_target(store, kind, address, secret=secret, site=site)
    typer.echo(json.dumps(target.to_json()))


def alerts_list(db: str | None = DbOption) -> None:
    from trueorigin.sites.alerts import targets

    with open_store(db, create=False) as store:  # reading: a mistyped store is an error, never created
        typer.echo(json.dumps([t.to_json() for t in targets(store)], indent=1))


sites_app.command("add")(sites_add)
sites_app.command("provision")(sites_provision)
sites_app.command("audit")(sites_audit)
sites_app.command("cancel")(sites_cancel)
sites_app.command("jobs")(sites_jobs)
sites_app.command("sensors")(sites_sensors)
schedule_app.command("add")(schedule_add)
schedule_app.command("list")(schedule_list)
schedule_app.command("set")(schedule_set)
alerts_app.command("add")(alerts_add)
alerts_app.command("list")(alerts_list)


def register(app: typer.Typer) -> None:
    app.command("sensor")(sensor_command)
    app.command("worker")(worker_command)
    app.command("beat")(beat_command)
    app.add_typer(sites_app, name="sites")
    app.add_typer(alerts_app, name="alerts")
