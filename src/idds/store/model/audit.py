"""The audit table: append-only, one row per write, each row chained to the one before.

The database itself refuses UPDATE and DELETE on this table (triggers created by the
migration, `idds.store.migrations`); `idds.store.audit.verify_chain` detects what a person
with enough access to drop the triggers could still do.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idds.store.model.base import Base, UtcDateTime

#: The audit table's name (the triggers and the verifier name it).
AUDIT_TABLE = "audit_record"


class AuditRecord(Base):
    """Who did what to which row, when, why, with the row before and after.

    `before` / `after` are canonical JSON text (None for a row created / none left);
    `hash` is SHA-256 (hex) over the canonical content and `prev_hash`."""

    __tablename__ = AUDIT_TABLE

    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(60), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(100), nullable=False)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
