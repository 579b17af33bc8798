"""Replay every row of the hostile corpus (corpus.py) against the real command line, in a child process.

For each row: the exit code is the documented one (README "Reliability"), nothing prints a traceback, stdout and
stderr hold no raw control characters, the one-line message says what the row expects, and the child's peak
memory stays under the row's cap. The child also runs under an address-space limit, so a blow-up fails fast
instead of exhausting the shared machine.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpus import CASES, Case

ADDRESS_SPACE_LIMIT = 6 * 1024**3  # virtual memory of the child: pyarrow/duckdb reserve a lot but touch little


def raw_control_characters(text: str) -> list[str]:
    """C0 (but tab, CR, LF), DEL and C1 characters: what a terminal would act on. Joins the `hostile` helpers."""
    return sorted({repr(c) for c in text if (ord(c) < 32 and c not in "\t\r\n") or 0x7F <= ord(c) <= 0x9F})


def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def run_case(case: Case, folder: Path) -> tuple[int, str, str, int]:
    """(exit code, stdout, stderr, peak RSS in MiB) of the case's command line."""
    paths = {}
    for name, generate in case.inputs.items():
        path = folder / name
        generate(path)
        paths[Path(name).stem] = str(path)
    argv = [arg.format(**paths) if "{" in arg and "}" in arg and arg.strip("{}") in paths else arg for arg in case.argv]
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TRUEORIGIN_DB": f"sqlite:///{folder / 'store.db'}"}
    out_path, err_path = folder / "child.stdout", folder / "child.stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        child = subprocess.Popen(
            [sys.executable, "-c", "from trueorigin.cli import main; main()", *argv],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            cwd=folder,
            env=env,
            preexec_fn=_limit_child,
        )
    deadline = time.monotonic() + case.timeout
    while True:  # wait4: this child's own peak RSS, not the high-water mark of every child so far
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            child.kill()
            os.wait4(child.pid, 0)
            pytest.fail(f"{case.id}: no answer in {case.timeout} s")
        time.sleep(0.05)
    child.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_bytes().decode("utf-8", "replace")
    stderr = err_path.read_bytes().decode("utf-8", "replace")
    return child.returncode, stdout, stderr, usage.ru_maxrss // 1024


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=list(c.marks)) for c in CASES])
def test_hostile_input(case: Case, tmp_path: Path) -> None:
    code, stdout, stderr, peak = run_case(case, tmp_path)
    assert code in case.exit_codes, f"exit {code}, documented {case.exit_codes}\n{stderr[-2000:]}"
    assert "Traceback" not in stderr and "Traceback" not in stdout, stderr[-3000:]
    assert not raw_control_characters(stdout), raw_control_characters(stdout)
    assert not raw_control_characters(stderr), raw_control_characters(stderr)
    for expected in case.stderr_has:
        assert expected.lower() in stderr.lower(), f"{expected!r} not said:\n{stderr[-2000:]}"
    assert peak < case.memory_mib, f"peak RSS {peak} MiB over the {case.memory_mib} MiB cap"
