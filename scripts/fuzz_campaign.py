"""A longer fuzzing campaign over every reader of user files than the test suite runs.

The targets and seeds are those of tests/test_fuzz_readers.py (real fixtures). With atheris installed
(`pip install -e '.[fuzz]'`) each target runs coverage-guided under libFuzzer for `--runs` inputs starting from its
seed; without it, hypothesis runs `--runs` mutated examples per target. A target fails when the reader raises
anything but a TrueOriginError (or an assertion of the target fails); the failing input is saved.

    .venv/bin/python scripts/fuzz_campaign.py --runs 20000            # every target
    .venv/bin/python scripts/fuzz_campaign.py --runs 5000 capture nmap
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _fuzz_module() -> object:
    spec = importlib.util.spec_from_file_location("test_fuzz_readers", ROOT / "tests" / "test_fuzz_readers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_atheris_target(name: str, runs: int) -> None:
    """Child process: one target under libFuzzer (atheris calls exit when done)."""
    import atheris

    # Coverage of trueorigin's own readers only: instrumenting SQLAlchemy, pyarrow etc. would take minutes.
    import dpkt  # noqa: F401 - imported before instrumentation on purpose
    import sqlalchemy  # noqa: F401
    import yaml  # noqa: F401

    with atheris.instrument_imports(include=["trueorigin"]):
        import trueorigin.observations_io
        import trueorigin.passive.capture
        import trueorigin.passive.imports
        import trueorigin.report.verify
        import trueorigin.screen.readers  # noqa: F401
    from trueorigin.errors import TrueOriginError

    module = _fuzz_module()
    filename, read = module.TARGETS[name]  # type: ignore[attr-defined]
    scratch = Path(tempfile.mkdtemp(prefix=f"trueorigin-fuzz-{name}-"))
    corpus = scratch / "corpus"
    corpus.mkdir()
    (corpus / "seed").write_bytes(module.SEEDS[name])  # type: ignore[attr-defined]
    path = scratch / filename

    def one_input(data: bytes) -> None:
        path.write_bytes(data)
        with contextlib.suppress(TrueOriginError):
            read(path)

    atheris.Setup(
        [sys.argv[0], f"-runs={runs}", f"-artifact_prefix={scratch}/", "-max_len=65536", str(corpus)], one_input
    )
    atheris.Fuzz()


def run_hypothesis_target(name: str, runs: int) -> None:
    from hypothesis import HealthCheck, given, settings

    module = _fuzz_module()
    filename, read = module.TARGETS[name]  # type: ignore[attr-defined]

    @settings(max_examples=runs, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=module.mutated(module.SEEDS[name]))  # type: ignore[attr-defined]
    def campaign(data: bytes) -> None:
        module._read_or_refuse(filename, data, read)  # type: ignore[attr-defined]

    campaign()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", help="Targets (default: all).")
    parser.add_argument("--runs", type=int, default=20_000, help="Inputs per target.")
    parser.add_argument("--engine", choices=("auto", "atheris", "hypothesis"), default="auto")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_atheris_target(args.child, args.runs)
        return 0
    names = args.targets or list(_fuzz_module().TARGETS)  # type: ignore[attr-defined]
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if importlib.util.find_spec("atheris") else "hypothesis"
    failed = []
    total = 0
    started = time.perf_counter()
    for name in names:
        t0 = time.perf_counter()
        if engine == "atheris":
            code = subprocess.run(
                [sys.executable, __file__, "--child", name, "--runs", str(args.runs)],
                env={**os.environ, "PYTHONPATH": str(ROOT / "tests")},
                check=False,
            ).returncode
            ok = code == 0
        else:
            try:
                run_hypothesis_target(name, args.runs)
                ok = True
            except Exception as exc:
                print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                ok = False
        total += args.runs
        print(f"{engine} {name}: {args.runs} inputs in {time.perf_counter() - t0:.0f} s: {'ok' if ok else 'FAILED'}")
        if not ok:
            failed.append(name)
    print(f"campaign: {len(names)} targets, {total} inputs, {time.perf_counter() - started:.0f} s, failed: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
