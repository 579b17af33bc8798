"""The stated limits on input (README "Reliability" lists them) and the bounded readers that enforce them.

Every reader of user-supplied files reads through a bound: a line, a file, a zip member, a count of rows, ports
or flows. Going past one is a `LimitError` (exit 2) whose message names the limit, raised before the excess is
held in memory — never after the whole input was read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from trueorigin.errors import InputError, LimitError

MiB = 1024 * 1024

# `identify`: observation JSON lines
MAX_OBSERVATION_LINE_CHARS = 4 * MiB  # one observation; a longer line is skipped (read in bounded chunks)
MAX_OBSERVATION_INPUT_CHARS = 128 * MiB  # one `identify` input (held in memory: it is identified as a whole)

# `report verify`
MAX_REPORT_BYTES = 64 * MiB  # a report is read whole to check its manifest

# `import`: asset CSV and nmap XML
MAX_CSV_FIELD_CHARS = 64 * 1024
MAX_PORTS_PER_HOST = 2 * 65536  # every TCP and UDP port once; nmap never lists more
MAX_SITES_PER_IMPORT = 1000  # distinct values of the asset export's `site` column (one scan each)

# `screen`: XLSX workbooks (checked from the zip directory before openpyxl reads a member)
MAX_XLSX_MEMBER_BYTES = 512 * MiB  # uncompressed size of one part (a sheet, the shared strings)
MAX_XLSX_SHARED_STRINGS = 2_000_000  # shared strings (openpyxl holds them all in a list)
MAX_XLSX_SHARED_STRINGS_BYTES = 128 * MiB  # uncompressed size of the shared-strings part
MAX_XLSX_CELL_CHARS = 32_767  # Excel's own limit on the text of one cell

# `passive`: packet captures
FLOW_BYTES = 128 * 1024  # bytes kept of a server's answer on one TCP flow
REQUEST_BYTES = 16 * 1024  # bytes kept of a client's requests on one TCP flow
MAX_FLOWS = 20_000  # open TCP flows; the oldest is finished first
MAX_BUFFERED_BYTES = 64 * MiB  # reassembly buffers of all open flows together; the oldest flows are finished first
MAX_PACKET_BYTES = 262_144  # one pcap record's captured bytes (libpcap's largest snapshot length)
MAX_RECORD_BYTES = 16 * MiB  # one capture record or pcapng block; a longer one is damage (pcap snaplen <= 256 KiB)


def bounded_lines(stream: IO[str], max_line: int, max_total: int | None, what: str) -> Iterator[tuple[int, str | None]]:
    """(1-based line number, line) pairs; a line longer than `max_line` comes out as (number, None).

    Never holds more than `max_line` characters: an over-long line is skipped in chunks of that size. Reading
    more than `max_total` characters in all (over-long lines included) raises LimitError, so an endless input
    (`/dev/zero`, a pipe that never ends a line) ends with a clear error, not an exhausted machine.
    """
    total = 0
    number = 0
    while True:
        line = stream.readline(max_line + 1)
        if not line:
            return
        number += 1
        total += len(line)
        if len(line) > max_line and not line.endswith("\n"):
            while True:
                if max_total is not None and total > max_total:
                    raise LimitError(f"{what}: more than {max_total // MiB} MiB of input (the limit)")
                chunk = stream.readline(max_line)
                total += len(chunk)
                if not chunk or chunk.endswith("\n"):
                    break
            yield number, None
            continue
        if max_total is not None and total > max_total:
            raise LimitError(f"{what}: more than {max_total // MiB} MiB of input (the limit)")
        yield number, line


def read_bounded(handle: IO[bytes], limit: int, what: str) -> bytes:
    """All of `handle`, or LimitError when it holds more than `limit` bytes (works on pipes and /dev/zero)."""
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise LimitError(f"{what} is larger than {limit // MiB} MiB (the limit)")
    return data


def loads_json(text: str | bytes, what: str) -> Any:
    """json.loads, with nesting deeper than the parser can follow refused as input, not raised as a crash."""
    try:
        return json.loads(text)
    except RecursionError:
        raise LimitError(f"{what}: JSON nested too deeply (the parser's limit is about 1000 levels)") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{what}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
