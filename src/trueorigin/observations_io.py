"""Reading the offline observation format (JSON lines), shared by `identify` and the importers."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from trueorigin.limits import MAX_OBSERVATION_INPUT_CHARS, MAX_OBSERVATION_LINE_CHARS, bounded_lines
from trueorigin.model import Observation, Status


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that could not be read, kept so the user is told which one and why."""

    number: int
    reason: str


def observation_from_json(obj: Any) -> Observation:
    """One observation from a decoded JSON object; raises ValueError with a readable reason."""
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    host = obj.get("host")
    protocol = obj.get("protocol")
    data = obj.get("data")
    if not isinstance(host, str) or not host:
        raise ValueError("missing 'host'")
    if not isinstance(protocol, str) or not protocol:
        raise ValueError("missing 'protocol'")
    if not isinstance(data, str):
        raise ValueError("missing 'data' (a string)")
    encoding = obj.get("encoding", "text")
    if encoding == "base64":
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"'data' is not valid base64: {exc}") from exc
    elif encoding == "text":
        raw = data.encode("utf-8", errors="surrogateescape")
    else:
        raise ValueError(f"unknown encoding {encoding!r} (use 'text' or 'base64')")
    port = obj.get("port")
    if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535):
        raise ValueError("'port' must be an integer from 0 to 65535")
    request = obj.get("request")
    if request is not None and not isinstance(request, str):
        raise ValueError("'request' must be a string")
    status = obj.get("status", "ok")
    try:
        status_value = Status(status)
    except ValueError as exc:
        raise ValueError(f"unknown status {status!r}") from exc
    extra: dict[str, Any] = {}
    if isinstance(obj.get("transport"), str):
        extra["transport"] = obj["transport"]
    if isinstance(obj.get("time"), int | float):
        extra["time"] = float(obj["time"])
    return Observation(host=host, protocol=protocol, data=raw, port=port, request=request, status=status_value, **extra)


def read_jsonl(
    stream: IO[str], max_total: int | None = MAX_OBSERVATION_INPUT_CHARS, what: str = "observations"
) -> Iterator[Observation | BadLine]:
    """Observations in file order; malformed lines come out as BadLine with their 1-based number.

    Bounded (trueorigin.limits): an over-long line is skipped without being held, and more than `max_total`
    characters in all raise LimitError.
    """
    for number, line in bounded_lines(stream, MAX_OBSERVATION_LINE_CHARS, max_total, what):
        if line is None:
            yield BadLine(number, f"line longer than {MAX_OBSERVATION_LINE_CHARS} characters (the limit)")
            continue
        if not line.strip():
            continue
        try:
            yield observation_from_json(json.loads(line))
        except json.JSONDecodeError as exc:
            yield BadLine(number, f"not JSON: {exc.msg} at column {exc.colno}")
        except (ValueError, RecursionError) as exc:
            yield BadLine(number, str(exc))
