"""Exception hierarchy and the one exit-code rule of every command.

Library code raises these; only the CLI (`trueorigin.cli`, in one place) turns them into a one-line message and
an exit code. Each class carries its exit code, so a new error class only has to pick the right parent.

TrueOriginError            base; exit 2 (bad input or environment)
 +-- InputError            a file, row, option or name the user gave is unusable                         exit 2
 |    +-- LimitError       the input exceeds a stated limit (README "Reliability"); nothing was done     exit 2
 +-- DataError             the knowledge base or fingerprint data is invalid                             exit 2
 +-- SafetyError           a request would send traffic somewhere the user did not allow                 exit 2
 +-- DamagedError          an input is damaged (corrupt, truncated, foreign); for a partly read input
                           the command says how much was read and where it stopped                       exit 4

The exit-code rule (the same for every command; README "Reliability" has the table):

  0   completed: nothing covered and nothing to review / the check passed / the action was done
  1   completed: covered equipment found (scan, identify, passive, import, screen, kb explain)
      — or the check the command exists for failed (report verify, kb validate, fingerprints test)
  2   bad input, option or environment: nothing was done (also Click's usage errors)
  3   completed: nothing covered for certain, but at least one host, row or name needs review
  4   damaged input: an input is corrupt or truncated; results (if any) cover only what could be read,
      so this is never a clean audit. Covered equipment found in the readable part still exits 1.
  70  internal error (a bug; EX_SOFTWARE from sysexits.h): one line on stderr, the traceback with --debug
  130 interrupted (Ctrl-C); what was finished is kept

An error never exits 1, so a gate that reads 1 as "covered equipment found" cannot mistake a crash for a finding.
"""

from __future__ import annotations

from collections.abc import Iterable

EXIT_CLEAN = 0
EXIT_COVERED = 1  # also: the check failed (report verify, kb validate, fingerprints test)
EXIT_CHECK_FAILED = EXIT_COVERED
EXIT_USAGE = 2
EXIT_REVIEW = 3
EXIT_DAMAGED = 4
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


class TrueOriginError(Exception):
    exit_code = EXIT_USAGE


class InputError(TrueOriginError):
    pass


class LimitError(InputError):
    """An input is larger or deeper than a documented limit; the message names the limit."""


class DataError(TrueOriginError):
    pass


class SafetyError(TrueOriginError):
    pass


class DamagedError(TrueOriginError):
    """An input (capture, store, report) is damaged; the message says what and, when known, where."""

    exit_code = EXIT_DAMAGED


def verdict_exit_code(verdicts: Iterable[str], *, damaged: bool = False) -> int:
    """The exit code of a completed audit from its `covered` verdicts ("yes", "review", "no").

    Covered equipment wins (it was seen, whatever else is true); then damage (the audit is incomplete, so it
    is never reported clean); then review; then clean.
    """
    seen = set(verdicts)
    if "yes" in seen:
        return EXIT_COVERED
    if damaged:
        return EXIT_DAMAGED
    if "review" in seen:
        return EXIT_REVIEW
    return EXIT_CLEAN
