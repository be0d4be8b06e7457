"""Pump log records imported from a pump: one row per log entry, unique per implant and
sequence number. The entry's exact time (pump seconds) is a `_num` / `_den` pair; its details
are the canonical JSON of the entry's typed fields, so `LogEntry` reads back unchanged and its
hash chain verifies again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idds.store.model.base import Base, Key, UtcDateTime


class PumpLogRecord(Base):
    """One entry of a pump's hash-chained event log (`idds.pump.LogEntry`)."""

    __tablename__ = "pump_log_record"
    __table_args__ = (UniqueConstraint("implant_id", "seq", name="uq_pump_log_record_seq"),)

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    implant_id: Mapped[int] = mapped_column(ForeignKey("implant.id"), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    time_num: Mapped[int] = mapped_column(BigInteger, nullable=False)
    time_den: Mapped[int] = mapped_column(BigInteger, nullable=False)
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    details: Mapped[str] = mapped_column(Text, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    imported_by: Mapped[str] = mapped_column(String(64), nullable=False)
