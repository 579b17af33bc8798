"""Exception hierarchy. Library code raises these; only the CLI turns them into messages and exit codes.

TrueOriginError            base; exit code 2 (bad input or environment)
 +-- InputError            a file, row, option or name the user gave is unusable
 +-- DataError             the knowledge base or fingerprint data is invalid
 +-- SafetyError           a request would send traffic somewhere the user did not allow
 +-- StoreError            the store is damaged or not a trueorigin store (corrupt, truncated, foreign file,
                           missing table, unreadable row); exit code 4, the code for damaged input
"""

from __future__ import annotations


class TrueOriginError(Exception):
    exit_code = 2


class InputError(TrueOriginError):
    pass


class DataError(TrueOriginError):
    pass


class SafetyError(TrueOriginError):
    pass


class StoreError(TrueOriginError):
    """The store cannot be trusted: a corrupt, truncated or foreign database, a missing table, a damaged row."""

    exit_code = 4  # damaged input, never confused with 1 (covered equipment found) or 2 (bad input)
