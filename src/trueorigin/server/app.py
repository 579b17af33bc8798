"""The ASGI application: `create_app(store_url)` -> FastAPI (pages under /, REST API under /api/v1).

Blocking database work runs in FastAPI's thread pool (routes are plain `def`), so one slow query never stalls
the event loop. Errors have one body everywhere (`errors.py`); security headers and CSRF live in `security.py`.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from trueorigin import __version__
from trueorigin.errors import TrueOriginError
from trueorigin.safetext import html_visible
from trueorigin.server.accounts import Accounts, Principal
from trueorigin.server.errors import ApiError, body
from trueorigin.server.security import (
    SESSION_COOKIE,
    AddressThrottle,
    SecurityHeaders,
    ServerSettings,
    check_csrf,
    client_address,
)
from trueorigin.store.api import Store, iso_time, open_store

log = logging.getLogger("trueorigin.server")
STATIC = Path(__file__).parent / "static"


@dataclass
class AppContext:
    store: Store
    accounts: Accounts
    settings: ServerSettings
    throttle: AddressThrottle
    templates: Environment
    _kb: Any = field(default=None)

    @property
    def kb(self) -> Any:
        if self._kb is None:
            from trueorigin.knowledge import load

            self._kb = load()
        return self._kb

    @functools.cached_property
    def regime_map(self) -> dict[str, tuple[str, ...]]:
        """Vendor display name -> regimes covering it (knowledge base)."""
        kb = self.kb
        out: dict[str, tuple[str, ...]] = {}
        for entity_id, entity in getattr(kb, "entities", {}).items():
            covered, regimes = kb.coverage(entity_id)
            if covered != "no":
                out[entity.name.casefold()] = tuple(regimes)
        return out

    def regimes_of(self, vendor: str) -> tuple[str, ...]:
        return self.regime_map.get(vendor.casefold(), ())


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.trueorigin
    return ctx


def remote(request: Request) -> str:
    return client_address(request, context(request).settings)


def current_principal(request: Request) -> Principal | None:
    """Who is asking: `Authorization: Bearer <token>` (API token), else the session cookie."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    ctx = context(request)
    principal: Principal | None = None
    auth = request.headers.get("authorization")
    if auth is not None:
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise ApiError(
                401, "unauthorized", "Authorization must be 'Bearer <API token>'", {"WWW-Authenticate": "Bearer"}
            )
        principal = ctx.accounts.from_token(secret.strip())
        if principal is None:
            raise ApiError(401, "unauthorized", "unknown or revoked API token", {"WWW-Authenticate": "Bearer"})
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            principal = ctx.accounts.from_cookie(cookie)
    request.state.principal = principal
    return principal


def _requirement(permission: str) -> Any:
    async def dependency(request: Request, principal: Principal | None = Depends(current_principal)) -> Principal:
        if principal is None:
            raise ApiError(401, "unauthorized", "sign in or send an API token", {"WWW-Authenticate": "Bearer"})
        await check_csrf(request, principal)
        if not principal.can(permission):
            why = (
                "this API token is read-only"
                if principal.scope != "write" and permission != "read"
                else (f"role {principal.role} may not do this")
            )
            raise ApiError(403, "forbidden", why)
        return principal

    return dependency


require_read = _requirement("read")
require_decide = _requirement("decide")
require_admin = _requirement("admin")


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def _error_response(
    request: Request, status: int, code: str | None, message: str, headers: dict[str, str] | None = None
) -> Response:
    if _wants_html(request):
        if status == 401:
            return RedirectResponse("/login", status_code=303)
        ctx = context(request)
        html = ctx.templates.get_template("error.html.j2").render(
            status=status,
            message=None,
            error=message,
            user=getattr(request.state, "principal", None) or None,
            csrf=None,
            csrf_field="csrf_token",
            path=request.url.path,
        )
        return HTMLResponse(html, status_code=status, headers=headers)
    return JSONResponse(body(status, code, message), status_code=status, headers=headers)


def create_app(store: Store | str | None = None, settings: ServerSettings | None = None) -> FastAPI:
    """The application over one store (a Store, or a URL opened and upgraded here)."""
    the_store = store if isinstance(store, Store) else open_store(store)
    the_settings = settings or ServerSettings()
    templates = Environment(
        loader=PackageLoader("trueorigin.server", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        finalize=html_visible,  # every {{ value }}: control and bidi characters made visible, then autoescaped
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters["iso"] = lambda epoch: iso_time(epoch) or "—"
    app = FastAPI(
        title="trueorigin",
        version=__version__,
        description="Covered-vendor equipment (NDAA §889, FCC Covered List): devices, findings, scans, screening, "
        "knowledge base and reports. Authenticate with `Authorization: Bearer <API token>`.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN, which the CSP forbids
        redoc_url=None,
    )
    app.state.trueorigin = AppContext(
        store=the_store,
        accounts=Accounts(the_store),
        settings=the_settings,
        throttle=AddressThrottle(the_settings.ip_failures_per_window, the_settings.ip_window_s),
        templates=templates,
    )
    app.add_middleware(SecurityHeaders, settings=the_settings)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _error_response(request, exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(TrueOriginError)
    async def input_error(request: Request, exc: TrueOriginError) -> Response:
        return _error_response(request, 400, "bad_request", str(exc))

    @app.exception_handler(LookupError)
    async def not_found(request: Request, exc: LookupError) -> Response:
        return _error_response(request, 404, "not_found", str(exc).strip("'\""))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for error in exc.errors()[:5]:
            where = ".".join(str(p) for p in error.get("loc", ()))
            parts.append(f"{where}: {error.get('msg', 'invalid')}")
        return _error_response(request, 422, "invalid", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error_response(request, exc.status_code, None, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return _error_response(request, 500, "internal", "internal error (logged on the server)")

    from trueorigin.server.api import router as api_router
    from trueorigin.server.pages import router as pages_router
    from trueorigin.server.sites_api import router as sites_router

    app.include_router(api_router)
    app.include_router(sites_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
