"""Property tests of the REST API against its own OpenAPI document (schemathesis, bounded examples).

Every operation is called with generated parameters and bodies as an admin with a write-scoped token; the
answers must never be a server error, must use a documented status and content type, and must match the
documented schema (error bodies included)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server_fixtures import copy_site, make_site
from trueorigin.server import create_app
from trueorigin.server.accounts import Accounts, Principal
from trueorigin.store import open_store
from trueorigin.store.accounts import UserRow

pytestmark = pytest.mark.xdist_group("server")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    folder = tmp_path_factory.mktemp("server-schema")
    make_site(folder).store.close()
    site = copy_site(folder / "server.db", tmp_path_factory.mktemp("server-schema-copy"))
    accounts = Accounts(site.store)
    with accounts.session() as session:
        admin = session.query(UserRow).filter(UserRow.name == "ada").one()
        principal = Principal(admin.id, admin.name, admin.role, "cli")
    _id, token = accounts.create_token(principal, "schemathesis", "write")
    return create_app(site.store), token


def _operations() -> list[Any]:
    """(method, path) of every API operation, read from the OpenAPI document of an app over an empty store."""
    document = create_app(open_store("sqlite://", in_memory=True)).openapi()
    return [
        pytest.param(method.upper(), path, id=f"{method.upper()} {path}")
        for path, item in document["paths"].items()
        for method in item
    ]


@pytest.mark.parametrize(("method", "path"), _operations())
def test_api_conforms_to_its_openapi_document(api: tuple[Any, str], method: str, path: str) -> None:
    app, token = api
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operation = next(
        op for op in (r.ok() for r in schema.get_all_operations()) if (op.method.upper(), op.path) == (method, path)
    )

    @given(case=operation.as_strategy())
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: Any) -> None:
        if method == "DELETE":
            case.path_parameters = {"token_id": 999_999}  # never revoke the token this test runs with
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
        )

    check()
