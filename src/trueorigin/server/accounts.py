"""Users, sessions, API tokens, login throttling and the audit log (tables in `store/accounts.py`).

Passwords: Argon2id (argon2-cffi defaults, rehashed when the parameters change). Session cookies and API tokens
are random 256-bit secrets; only their sha256 is stored, so a copy of the database opens no session.
Every change goes through `audit()` in the same transaction as the change itself.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from trueorigin.errors import InputError
from trueorigin.store.accounts import (
    ROLES,
    TOKEN_SCOPES,
    ApiTokenRow,
    AuditLogRow,
    SessionRow,
    UserRow,
)
from trueorigin.store.api import Store

SESSION_SECONDS = 8 * 3600
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
# Throttling: after FREE_FAILURES wrong passwords in a row an account waits LOCK_FIRST_S, doubling with each
# further failure, at most LOCK_MAX_S (a password guesser gets a few dozen tries an hour, a user a short pause).
FREE_FAILURES = 5
LOCK_FIRST_S = 30.0
LOCK_MAX_S = 15 * 60
TOKEN_PREFIX = "to_"
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-")
LAST_USE_GRANULARITY_S = 30.0  # a token used in a loop writes its last use at most this often

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")

# What each role may do. Auditors decide findings, waivers and screening rows; admins also manage accounts.
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "auditor": frozenset({"read", "decide"}),
    "admin": frozenset({"read", "decide", "admin"}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a user through a session or an API token (whose scope may narrow the user's role)."""

    user_id: int
    name: str
    role: str
    via: str  # "session" or "token"
    scope: str = "write"
    csrf: str | None = None  # session's synchronizer token
    session_id: str | None = None

    def can(self, permission: str) -> bool:
        if permission != "read" and self.scope != "write":
            return False
        return permission in PERMISSIONS.get(self.role, frozenset())


@dataclass(frozen=True, slots=True)
class LoginResult:
    principal: Principal | None
    cookie: str | None = None
    retry_after: float = 0.0  # seconds the account must wait (throttled)


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    name = name.strip()
    if not (1 <= len(name) <= 100) or not set(name) <= NAME_CHARS:
        raise InputError("a user name is 1-100 characters of letters, digits and . _ @ -")
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InputError(f"a password has at most {MAX_PASSWORD} characters")


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


class Accounts:
    """Account operations on one store's database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.store.engine, expire_on_commit=False) as session, session.begin():
            yield session

    # ------------------------------------------------------------------ audit log
    @staticmethod
    def audit(
        session: Session,
        actor: str,
        action: str,
        target: str,
        before: Any = None,
        after: Any = None,
        remote: str | None = None,
    ) -> None:
        def doc(value: Any) -> str | None:
            return None if value is None else json.dumps(value, sort_keys=True, default=str)

        session.add(
            AuditLogRow(
                at=time.time(),
                actor=actor[:200],
                action=action[:64],
                target=target[:200],
                before_json=doc(before),
                after_json=doc(after),
                remote=(remote or None) and remote[:64],
            )
        )

    def record(
        self, actor: str, action: str, target: str, before: Any = None, after: Any = None, remote: str | None = None
    ) -> None:
        with self.session() as session:
            self.audit(session, actor, action, target, before, after, remote)

    # ------------------------------------------------------------------ users
    def add_user(self, name: str, role: str, password: str, actor: str = "cli") -> int:
        name, role = check_name(name), check_role(role)
        check_password(password)
        with self.session() as session:
            if session.scalar(select(UserRow).where(UserRow.name == name)) is not None:
                raise InputError(f"user {name!r} exists already")
            row = UserRow(
                name=name,
                role=role,
                password_hash=_hasher.hash(password),
                created_at=time.time(),
                disabled=False,
                failed_logins=0,
            )
            session.add(row)
            session.flush()
            self.audit(session, actor, "user.add", f"user:{name}", None, {"name": name, "role": role})
            return row.id

    def users(self) -> list[dict[str, Any]]:
        with self.session() as session:
            return [
                {
                    "id": u.id,
                    "name": u.name,
                    "role": u.role,
                    "disabled": u.disabled,
                    "created_at": u.created_at,
                    "last_login": u.last_login,
                }
                for u in session.scalars(select(UserRow).order_by(UserRow.name))
            ]

    def set_role(self, name: str, role: str, actor: str) -> None:
        role = check_role(role)
        with self.session() as session:
            user = self._user(session, name)
            before = {"role": user.role}
            user.role = role
            self.audit(session, actor, "user.role", f"user:{name}", before, {"role": role})

    def set_disabled(self, name: str, disabled: bool, actor: str) -> None:
        with self.session() as session:
            user = self._user(session, name)
            before = {"disabled": user.disabled}
            user.disabled = disabled
            if disabled:  # a disabled user loses every open session at once
                for row in session.scalars(select(SessionRow).where(SessionRow.user_id == user.id)):
                    session.delete(row)
            self.audit(
                session,
                actor,
                "user.disable" if disabled else "user.enable",
                f"user:{name}",
                before,
                {"disabled": disabled},
            )

    @staticmethod
    def _user(session: Session, name: str) -> UserRow:
        user = session.scalar(select(UserRow).where(UserRow.name == name))
        if user is None:
            raise InputError(f"no user {name!r}")
        return user

    # ------------------------------------------------------------------ login and sessions
    def login(self, name: str, password: str, remote: str | None = None, now: float | None = None) -> LoginResult:
        """Check a password (throttled per account); on success open a session and return its cookie value."""
        moment = time.time() if now is None else now
        password = password[:MAX_PASSWORD]
        with self.session() as session:
            user = session.scalar(select(UserRow).where(UserRow.name == name[:100]))
            if user is None or user.disabled:
                _verify(_DUMMY_HASH, password)
                self.audit(session, name[:100] or "?", "login.failed", f"user:{name[:100]}", None, None, remote)
                return LoginResult(None)
            if user.locked_until is not None and user.locked_until > moment:
                self.audit(session, user.name, "login.throttled", f"user:{user.name}", None, None, remote)
                return LoginResult(None, retry_after=user.locked_until - moment)
            if not _verify(user.password_hash, password):
                user.failed_logins += 1
                if user.failed_logins >= FREE_FAILURES:
                    wait = min(LOCK_FIRST_S * 2.0 ** (user.failed_logins - FREE_FAILURES), LOCK_MAX_S)
                    user.locked_until = moment + wait
                self.audit(
                    session,
                    user.name,
                    "login.failed",
                    f"user:{user.name}",
                    None,
                    {"failed_logins": user.failed_logins},
                    remote,
                )
                return LoginResult(None)
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            user.failed_logins, user.locked_until, user.last_login = 0, None, moment
            cookie = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(32)
            session.add(
                SessionRow(
                    id=_sha(cookie), user_id=user.id, csrf=csrf, created_at=moment, expires_at=moment + SESSION_SECONDS
                )
            )
            self.audit(session, user.name, "login", f"user:{user.name}", None, None, remote)
            principal = Principal(user.id, user.name, user.role, "session", "write", csrf, _sha(cookie))
            return LoginResult(principal, cookie)

    def from_cookie(self, cookie: str, now: float | None = None) -> Principal | None:
        moment = time.time() if now is None else now
        with self.session() as session:
            row = session.get(SessionRow, _sha(cookie[:200]))
            if row is None:
                return None
            user = session.get(UserRow, row.user_id)
            if row.expires_at <= moment or user is None or user.disabled:
                session.delete(row)
                return None
            return Principal(user.id, user.name, user.role, "session", "write", row.csrf, row.id)

    def logout(self, principal: Principal, remote: str | None = None) -> None:
        with self.session() as session:
            if principal.session_id:
                row = session.get(SessionRow, principal.session_id)
                if row is not None:
                    session.delete(row)
            self.audit(session, principal.name, "logout", f"user:{principal.name}", None, None, remote)

    # ------------------------------------------------------------------ API tokens
    def create_token(self, principal: Principal, name: str, scope: str, remote: str | None = None) -> tuple[int, str]:
        """A new token for the principal's user; returns (id, secret) - the secret is shown only this once."""
        if scope not in TOKEN_SCOPES:
            raise InputError(f"scope must be one of {', '.join(TOKEN_SCOPES)}, not {scope!r}")
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise InputError("a token needs a name of 1-100 characters")
        public = secrets.token_hex(4)
        secret = f"{TOKEN_PREFIX}{public}_{secrets.token_urlsafe(32)}"
        with self.session() as session:
            row = ApiTokenRow(
                user_id=principal.user_id,
                name=name,
                prefix=public,
                token_hash=_sha(secret),
                scope=scope,
                created_at=time.time(),
            )
            session.add(row)
            session.flush()
            self.audit(
                session,
                principal.name,
                "token.create",
                f"token:{row.id}",
                None,
                {"name": name, "scope": scope, "prefix": public},
                remote,
            )
            return row.id, secret

    def tokens(self, user_id: int | None = None) -> list[dict[str, Any]]:
        with self.session() as session:
            query = select(ApiTokenRow, UserRow.name).join(UserRow, UserRow.id == ApiTokenRow.user_id)
            if user_id is not None:
                query = query.where(ApiTokenRow.user_id == user_id)
            return [
                {
                    "id": t.id,
                    "user": user_name,
                    "name": t.name,
                    "prefix": t.prefix,
                    "scope": t.scope,
                    "created_at": t.created_at,
                    "last_used_at": t.last_used_at,
                    "revoked_at": t.revoked_at,
                }
                for t, user_name in session.execute(query.order_by(ApiTokenRow.id))
            ]

    def revoke_token(self, principal: Principal, token_id: int, remote: str | None = None) -> None:
        with self.session() as session:
            row = session.get(ApiTokenRow, token_id)
            # Someone else's token is "not found" unless you are an admin: its existence is not your business.
            if row is None or (row.user_id != principal.user_id and not principal.can("admin")):
                raise LookupError(f"no token {token_id}")
            if row.revoked_at is None:
                row.revoked_at = time.time()
                self.audit(
                    session,
                    principal.name,
                    "token.revoke",
                    f"token:{row.id}",
                    {"revoked": False},
                    {"revoked": True},
                    remote,
                )

    def from_token(self, secret: str, now: float | None = None) -> Principal | None:
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        moment = time.time() if now is None else now
        with self.session() as session:
            row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == _sha(secret)))
            if row is None or row.revoked_at is not None:
                return None
            user = session.get(UserRow, row.user_id)
            if user is None or user.disabled:
                return None
            if row.last_used_at is None or moment - row.last_used_at >= LAST_USE_GRANULARITY_S:
                row.last_used_at = moment
            return Principal(user.id, user.name, user.role, "token", row.scope)

    # ------------------------------------------------------------------ audit log reading
    def audit_log(self, limit: int = 100, before_id: int | None = None) -> list[dict[str, Any]]:
        with self.session() as session:
            query = select(AuditLogRow).order_by(AuditLogRow.id.desc()).limit(limit)
            if before_id is not None:
                query = query.where(AuditLogRow.id < before_id)
            return [
                {
                    "id": r.id,
                    "at": r.at,
                    "actor": r.actor,
                    "action": r.action,
                    "target": r.target,
                    "before": json.loads(r.before_json) if r.before_json else None,
                    "after": json.loads(r.after_json) if r.after_json else None,
                    "remote": r.remote,
                }
                for r in session.scalars(query)
            ]


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
