"""What crosses the broker, validated on arrival: small messages of ids and raw evidence, never ORM objects.

A sensor sends observations (facts), never verdicts: the central knowledge base decides, and can decide
again. Every message is size-bounded twice: the broker refuses an oversized frame (see docs/deployment.md),
and the receiving side validates the decoded message with these models before touching the store.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from trueorigin.errors import InputError
from trueorigin.model import Observation, Status

SITE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$")
MAX_OBSERVATION_BYTES = 256 * 1024  # one device answer, raw (probes read at most 64 KiB per exchange)
MAX_BATCH_OBSERVATIONS = 2000
MAX_MESSAGE_BYTES = 8 * 1024 * 1024  # a whole batch, encoded
MAX_TARGET_SPECS = 4096

SiteName = Annotated[str, Field(min_length=1, max_length=50, pattern=SITE_NAME.pattern)]
Text200 = Annotated[str, Field(max_length=200)]
Spec = Annotated[str, Field(min_length=1, max_length=300)]


def check_site_name(name: str) -> str:
    """Site names become queue names and broker permission patterns: lower-case letters, digits, dashes."""
    if not SITE_NAME.match(name):
        raise InputError(
            f"site name {name[:60]!r} is not usable for a sensor: use 1-50 lower-case letters, digits or dashes"
        )
    return name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuditJob(_Strict):
    """One audit for one site's sensors: what to scan and how. Credentials are never in it: each sensor
    reads its own file."""

    job_id: Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    site: SiteName
    targets: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=300)]], Field(min_length=1, max_length=MAX_TARGET_SPECS)
    ]
    exclude: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=300)]], Field(max_length=MAX_TARGET_SPECS)
    ] = []
    ports: Annotated[list[Annotated[int, Field(ge=1, le=65535)]], Field(min_length=1, max_length=1024)]
    rate: Annotated[float, Field(gt=0, le=100_000)] = 300.0
    concurrency: Annotated[int, Field(ge=1, le=4096)] = 128
    timeout: Annotated[float, Field(gt=0, le=60)] = 2.0
    max_hosts: Annotated[int, Field(ge=1, le=2**24)] = 65_536
    udp_discovery: bool = True


class ObservationIn(_Strict):
    host: Annotated[str, Field(min_length=1, max_length=255)]
    protocol: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
    data_b64: Annotated[str, Field(max_length=(MAX_OBSERVATION_BYTES * 4) // 3 + 8)]
    port: Annotated[int, Field(ge=0, le=65535)] | None = None
    request: Annotated[str, Field(max_length=2000)] | None = None
    transport: Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[a-z][a-z-]*$")] = "tcp"
    status: Status = Status.OK
    time: Annotated[float, Field(ge=0, le=2**33)]

    @field_validator("host")
    @classmethod
    def _address(cls, value: str) -> str:
        import ipaddress

        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError("host must be an IP address") from None

    def to_observation(self) -> Observation:
        try:
            data = base64.b64decode(self.data_b64, validate=True)
        except (binascii.Error, ValueError):
            raise InputError("observation data is not base64") from None
        if len(data) > MAX_OBSERVATION_BYTES:
            raise InputError(f"observation larger than {MAX_OBSERVATION_BYTES} bytes")
        return Observation(
            host=self.host,
            protocol=self.protocol,
            data=data,
            port=self.port,
            request=self.request,
            transport=self.transport,
            status=self.status,
            time=self.time,
        )

    @staticmethod
    def of(obs: Observation) -> ObservationIn:
        return ObservationIn(
            host=obs.host,
            protocol=obs.protocol,
            data_b64=base64.b64encode(obs.data[:MAX_OBSERVATION_BYTES]).decode("ascii"),
            port=obs.port,
            request=None if obs.request is None else obs.request[:2000],
            transport=obs.transport,
            status=obs.status,
            time=obs.time,
        )


class ObservationBatch(_Strict):
    """Observations a sensor made for one job. `final` closes the job; `hosts_done` counts the hosts the
    batch finishes (including silent ones, which send no observation)."""

    job_id: Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    site: SiteName
    sensor: Text200
    sequence: Annotated[int, Field(ge=0, le=2**31)]
    observations: Annotated[list[ObservationIn], Field(max_length=MAX_BATCH_OBSERVATIONS)] = []
    finished_hosts: Annotated[list[Annotated[str, Field(max_length=255)]], Field(max_length=65_536)] = []
    final: bool = False
    hosts_total: Annotated[int, Field(ge=0, le=2**32)] | None = None  # on the final batch: hosts this run finished
    status: Annotated[str, Field(pattern=r"^(running|complete|cancelled|failed)$")] = "running"
    error: Annotated[str, Field(max_length=500)] | None = None


class Heartbeat(_Strict):
    site: SiteName
    sensor: Text200
    version: Text200
    state: Annotated[str, Field(pattern=r"^(idle|auditing|stopping)$")]
    job_id: Annotated[str, Field(max_length=64)] | None = None
    hosts_done: Annotated[int, Field(ge=0)] = 0
    hosts_total: Annotated[int, Field(ge=0)] = 0
    time: Annotated[float, Field(ge=0, le=2**33)]


def validated(model: type[_Strict], payload: Any) -> Any:
    """Decode an incoming message or raise InputError (never a traceback with the payload in it)."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = exc.errors()
        where = ".".join(str(p) for p in errors[0]["loc"])[:120] if errors else ""
        kind = errors[0]["type"] if errors else "error"
        raise InputError(f"invalid {model.__name__} message at {where or 'top level'}: {kind}") from None
