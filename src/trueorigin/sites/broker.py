"""The broker's side of sites: one Celery app definition, the queues, and who may touch which.

Topology (RabbitMQ; the Redis transport emulates the same names):

    exchange trueorigin.jobs     (direct) --site.S-->     queue trueorigin.site.S      audit jobs for site S
    exchange trueorigin.control  (direct) --control.S-->  queue trueorigin.control.S   cancel requests for S
    exchange trueorigin.ingest   (topic)  --ingest.*-->   queue trueorigin.ingest      observations, heartbeats
    exchange trueorigin.central  (direct) --central-->    queue trueorigin.central     dispatch, alert delivery

A sensor of site S gets its own broker user that may read only `trueorigin.site.S` and `trueorigin.control.S`
and may publish only to `trueorigin.ingest` with the routing key `ingest.S` (RabbitMQ topic authorisation),
and may declare nothing. The ingest worker takes the site from the routing key the broker accepted, so a
sensor, even a compromised one, can add observations for its own site only. Redis has no such per-queue
permissions: with Redis every sensor holds the same credential (see docs/deployment.md).
"""

from __future__ import annotations

import shlex
import subprocess
from typing import Any

from celery import Celery
from kombu.connection import Connection
from kombu.entity import Exchange, Queue

from trueorigin.errors import InputError
from trueorigin.sites.messages import MAX_MESSAGE_BYTES, check_site_name

JOBS = Exchange("trueorigin.jobs", type="direct", durable=True)
CONTROL = Exchange("trueorigin.control", type="direct", durable=True)
INGEST = Exchange("trueorigin.ingest", type="topic", durable=True)
CENTRAL = Exchange("trueorigin.central", type="direct", durable=True)

INGEST_QUEUE = Queue("trueorigin.ingest", INGEST, routing_key="ingest.*", durable=True)
CENTRAL_QUEUE = Queue("trueorigin.central", CENTRAL, routing_key="central", durable=True)

AUDIT_TASK = "trueorigin.audit_site"
INGEST_TASK = "trueorigin.ingest_batch"
HEARTBEAT_TASK = "trueorigin.heartbeat"
DISPATCH_TASK = "trueorigin.dispatch"
DELIVER_TASK = "trueorigin.deliver_alert"


def site_queue(site: str, *, declare: bool = True) -> Queue:
    site = check_site_name(site)
    return Queue(f"trueorigin.site.{site}", JOBS, routing_key=f"site.{site}", durable=True, no_declare=not declare)


def control_queue(site: str, *, declare: bool = True) -> Queue:
    site = check_site_name(site)
    return Queue(
        f"trueorigin.control.{site}", CONTROL, routing_key=f"control.{site}", durable=True, no_declare=not declare
    )


def ingest_routing_key(site: str) -> str:
    return f"ingest.{check_site_name(site)}"


def site_of_routing_key(routing_key: str | None) -> str | None:
    """The site a message was accepted for, from the key the broker checked ('ingest.S' -> 'S')."""
    if not routing_key or not routing_key.startswith("ingest."):
        return None
    return routing_key.removeprefix("ingest.")


def make_app(broker_url: str, *, declare: bool = True) -> Celery:
    """The one Celery app of trueorigin (sensor, ingest worker, beat and publishers share its settings).

    `declare=False` for a sensor: its broker user may declare nothing, the central side has declared it all.
    Late acknowledgement with `reject_on_worker_lost`: a sensor or worker killed mid-task has its message
    delivered again; the ingest is idempotent, so nothing is lost and nothing counted twice.
    """
    app = Celery("trueorigin", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_pool_limit=4,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        task_create_missing_queues=False,
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_queues=[INGEST_QUEUE, CENTRAL_QUEUE] if declare else [],
        task_default_exchange=CENTRAL.name,
        task_default_queue=CENTRAL_QUEUE.name,
        task_default_routing_key="central",
        broker_transport_options={"confirm_publish": True, "max_retries": 5},
    )
    return app


def declare_site(app: Celery, site: str) -> None:
    """Create the site's queues and bindings (central credentials; run when a site is added)."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for entity in (INGEST_QUEUE, CENTRAL_QUEUE, site_queue(site), control_queue(site)):
            entity(channel).declare()


def publish_job(app: Celery, job: dict[str, Any]) -> None:
    site = job["site"]
    declare_site(app, site)
    app.send_task(AUDIT_TASK, args=[job], exchange=JOBS.name, routing_key=f"site.{site}", queue=site_queue(site))


def publish_cancel(app: Celery, site: str, job_id: str) -> None:
    with app.connection_for_write() as connection:
        producer = connection.Producer()
        producer.publish(
            {"cancel": job_id},
            exchange=CONTROL,
            routing_key=f"control.{check_site_name(site)}",
            declare=[control_queue(site)],
            serializer="json",
            delivery_mode=2,
        )


def check_message_size(body: bytes | str) -> None:
    if len(body) > MAX_MESSAGE_BYTES:
        raise InputError(f"message of {len(body)} bytes is larger than {MAX_MESSAGE_BYTES}")


# -- RabbitMQ accounts for sensors ---------------------------------------------------------------


def sensor_user(site: str) -> str:
    return f"trueorigin-sensor-{check_site_name(site)}"


def sensor_permissions(site: str) -> tuple[str, str, str, str, str]:
    """(configure, write, read, topic-write, topic-read) patterns for the site's sensor user."""
    site = check_site_name(site)
    return ("^$", r"^trueorigin\.ingest$", rf"^trueorigin\.(site|control)\.{site}$", rf"^ingest\.{site}$", "^$")


def provision_commands(site: str, vhost: str, password: str | None) -> list[list[str]]:
    """The rabbitmqctl calls that give a site's sensor its own user (password None: the user exists)."""
    user = sensor_user(site)
    configure, write, read, topic_write, topic_read = sensor_permissions(site)
    commands = []
    if password is not None:
        commands.append(["rabbitmqctl", "add_user", user, password])
    commands += [
        ["rabbitmqctl", "set_permissions", "-p", vhost, user, configure, write, read],
        ["rabbitmqctl", "set_topic_permissions", "-p", vhost, user, INGEST.name, topic_write, topic_read],
    ]
    return commands


def run_provision(site: str, vhost: str, password: str | None) -> None:
    for command in provision_commands(site, vhost, password):
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
        if result.returncode != 0:
            shown = shlex.join(command[:3])  # never the password
            raise InputError(f"{shown} failed: {result.stderr.strip()[:300]}")


def can_reach(broker_url: str, timeout: float = 5.0) -> bool:
    try:
        with Connection(broker_url, connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False
