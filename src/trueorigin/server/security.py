"""Security in one place: response headers and CSP, who is asking (session or API token), CSRF, permissions.

- Every response carries a strict Content-Security-Policy (no inline scripts or styles, nothing from other
  origins), nosniff, frame denial, a same-origin referrer policy; HSTS when the request came over TLS.
- Sessions: an HttpOnly, SameSite=Strict cookie, Secure when the request came over TLS. Whether it did is read
  from the ASGI scope, or from X-Forwarded-Proto only when the server was told to trust its reverse proxy.
- CSRF: a synchronizer token per session, required on every state-changing request made with the session
  cookie (form field `csrf_token` or header `X-CSRF-Token`), plus an Origin check. API tokens (Authorization:
  Bearer) are not sent by browsers on their own, so requests bearing one need no CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trueorigin.server.accounts import Principal
from trueorigin.server.errors import ApiError

SESSION_COOKIE = "trueorigin_session"
LOGIN_CSRF_COOKIE = "trueorigin_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
STATIC_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


@dataclass(frozen=True, slots=True)
class ServerSettings:
    trust_proxy: bool = False  # honour X-Forwarded-Proto / X-Forwarded-For from the reverse proxy
    force_secure_cookies: bool = False  # Secure cookies even when the request looks like plain HTTP
    max_upload_bytes: int = 32 * 1024 * 1024
    ip_failures_per_window: int = 30  # failed logins per client address per window before 429
    ip_window_s: float = 300.0


def is_https(request: Request, settings: ServerSettings) -> bool:
    if request.url.scheme == "https":
        return True
    if settings.trust_proxy:
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        return proto == "https"
    return False


def client_address(request: Request, settings: ServerSettings) -> str:
    if settings.trust_proxy:
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        if forwarded:
            return forwarded[:64]
    return request.client.host if request.client else "?"


class SecurityHeaders:
    """Pure ASGI middleware (no per-request task or body buffering): adds the headers to every response start."""

    def __init__(self, app: ASGIApp, settings: ServerSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        https = is_https(request, self.settings)
        static = request.url.path.startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in STATIC_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if not static and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                if https:
                    headers["Strict-Transport-Security"] = "max-age=31536000"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def set_session_cookie(
    response: Response, value: str, request: Request, settings: ServerSettings, max_age: int
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=settings.force_secure_cookies or is_https(request, settings),
        path="/",
    )


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def check_origin(request: Request) -> None:
    """A browser names the page's origin on cross-site POSTs; refuse any that is not this server."""
    origin = request.headers.get("origin")
    if origin is None:  # not a browser, or a same-origin GET-style navigation: CSRF token still required
        return
    host = request.headers.get("host", "")
    allowed = {f"http://{host}", f"https://{host}"}
    if origin not in allowed:
        raise ApiError(403, "csrf", "cross-site request refused (Origin does not match this server)")


async def check_csrf(request: Request, principal: Principal) -> None:
    """State-changing requests made with a session cookie must carry the session's token."""
    if request.method in SAFE_METHODS or principal.via != "session":
        return
    check_origin(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not same_token(sent, principal.csrf):
        raise ApiError(403, "csrf", "missing or wrong CSRF token")


class AddressThrottle:
    """Failed logins per client address in a sliding window (accounts are throttled in the database too)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)

    def _trim(self, address: str, now: float) -> deque[float]:
        failures = self._failures[address]
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def blocked_for(self, address: str, now: float | None = None) -> float:
        moment = time.time() if now is None else now
        failures = self._trim(address, moment)
        if len(failures) < self.limit:
            return 0.0
        return failures[0] + self.window_s - moment

    def failed(self, address: str, now: float | None = None) -> None:
        moment = time.time() if now is None else now
        self._trim(address, moment).append(moment)
        if len(self._failures) > 100_000:  # bounded memory under a spray of addresses
            self._failures.clear()
