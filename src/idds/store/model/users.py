"""Users of the record and their login sessions."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idds.store.model.base import Base, Key, UtcDateTime


class User(Base):
    """A person who logs in: a role (`idds.store.permissions.UserRole`), an argon2id password
    hash, a count of failed logins in a row and, after too many, a lock-out end time. A
    patient user is tied to their own patient row (`patient_id`)."""

    __tablename__ = "user_account"
    audit_redacted: ClassVar[frozenset[str]] = frozenset({"password_hash"})

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    disabled: Mapped[bool] = mapped_column(nullable=False, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's own form)


class UserSession(Base):
    """A login: the SHA-256 of its token (the token itself is never stored), when it ends,
    and when the password was last entered in it (for the fresh-authentication window)."""

    __tablename__ = "login_session"
    audit_redacted: ClassVar[frozenset[str]] = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    authenticated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
