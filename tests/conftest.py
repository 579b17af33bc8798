"""Shared fixtures: the device lab (one namespace per xdist worker) and a throwaway PostgreSQL server.

Defined once here so every test module shares one session instance of each. What a test needs from the
machine is asked for with `require_tool(...)` / `require(...)` (tests/needs.py): a skip locally, a failure
under CI (CI=true).
"""

from lab_fixtures import lab_exchange, lab_site  # noqa: F401 - fixtures, requested by name
from needs import missing, require, require_tool, under_ci  # noqa: F401 - the one helper, re-exported
from pg_fixtures import pg_server, store_url  # noqa: F401 - fixtures, requested by name
