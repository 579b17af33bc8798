"""Tables of the server (`trueorigin serve`): users, sessions, API tokens, the audit log and screening uploads.

Same declarative Base as `store/models.py` so one Alembic history covers both (revision 0004_accounts).
Secrets are never stored: sessions and API tokens by their sha256, passwords as Argon2 hashes.
Also declares the indexes the dashboard's queries need on the store's own tables (devices' latest
identification, covered devices), so `models.py` stays as the store owns it.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trueorigin.store.models import Base, DeviceRow, IdentificationRow

ROLES: tuple[str, ...] = ("admin", "auditor", "viewer")
TOKEN_SCOPES: tuple[str, ...] = ("read", "write")


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Login throttling per account (kept in the database so every server process sees it).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_login: Mapped[float | None] = mapped_column(Float, nullable=True)


class SessionRow(Base):
    """A browser session; `id` is the sha256 of the cookie value, `csrf` the synchronizer token of its forms."""

    __tablename__ = "user_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)


class ApiTokenRow(Base):
    """A token for scripts and sensors: shown once, stored as sha256, scoped read or write, revocable."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # public part, shown in lists to tell tokens apart
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class AuditLogRow(Base):
    """Every change made through the server: who, when, what, before -> after (JSON documents)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    before_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    after_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    remote: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ScreeningUploadRow(Base):
    """An inventory uploaded for screening: its bytes (bounded size) and the rows the screening flagged."""

    __tablename__ = "screening_uploads"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))  # as the user named it: display only, never a path
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[float] = mapped_column(Float)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    summary_json: Mapped[str] = mapped_column(Text)
    rows_json: Mapped[str] = mapped_column(Text)  # flagged rows (covered yes/review), bounded
    scan_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ScreeningDecisionRow(Base):
    """A reviewer's decision on a screening row key (`screen/decisions.py`), applied to every later upload."""

    __tablename__ = "screening_decisions"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    covered: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    vendor: Mapped[str] = mapped_column(String(200))
    reviewer: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[str] = mapped_column(String(40))
    listing: Mapped[str] = mapped_column(Text)


# The dashboard reads "latest identification of each device" and "covered devices" on every page.
Index("ix_identifications_device_id_id", IdentificationRow.device_id, IdentificationRow.id)
Index("ix_identifications_covered", IdentificationRow.covered)
Index("ix_identifications_host", IdentificationRow.host)  # device list sorted by address, first page by index
Index("ix_devices_last_seen", DeviceRow.last_seen)
