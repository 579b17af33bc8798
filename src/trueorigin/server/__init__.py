"""The server: web dashboard and REST API over the store (`trueorigin serve`).

    app = create_app("sqlite:///trueorigin.db")   # FastAPI; pages under /, API under /api/v1

Modules: app (factory, principal resolution, error handling), security (headers, CSP, cookies, CSRF,
throttling), accounts (users, sessions, tokens, audit log), queries (the one read layer), actions and
screening (writes), api and pages (routes), charts (SVG), cli (`serve`, `users`).
"""

from trueorigin.server.app import create_app
from trueorigin.server.security import ServerSettings

__all__ = ["ServerSettings", "create_app"]
