"""Pump log records imported from a pump (one row per log entry, unique per implant and
sequence number) and the pump's readings (one per interrogation at a sync). A log entry's
exact time (pump seconds) is a `_num` / `_den` pair; its details are the canonical JSON of
the entry's typed fields, so `LogEntry` reads back unchanged and its hash chain verifies
again."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, String, Text, UniqueConstraint
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


class PumpReading(Base):
    """One interrogation of a pump, as a sync read it: the pump's time, drug and
    concentration (exact ng/nL), the therapy in force (the pump's own record, canonical JSON,
    and whether it was confirmed), whether it infuses, the reservoir estimate, capacity and
    low-reservoir alarm volume (whole nL), the refill due date the pump gives, the battery and
    the days to its elective replacement indicator (whole days, rounded down), the active
    alarm kinds (canonical JSON list), where the log stood (length, head hash), the volume
    pumped since the last fill (whole nL) and the calendar moment of the pump's time 0 (UTC);
    the last two are None on readings stored before revision 0003 and, for the epoch, from a
    pump without a calendar."""

    __tablename__ = "pump_reading"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    implant_id: Mapped[int] = mapped_column(ForeignKey("implant.id"), nullable=False)
    read_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    read_by: Mapped[str] = mapped_column(String(64), nullable=False)
    pump_time: Mapped[str] = mapped_column(String(40), nullable=False)
    drug: Mapped[str | None] = mapped_column(String(64))
    concentration_num: Mapped[int | None] = mapped_column(BigInteger)
    concentration_den: Mapped[int | None] = mapped_column(BigInteger)
    therapy: Mapped[str] = mapped_column(Text, nullable=False)
    confirmed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    infusing: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reservoir_nl: Mapped[int] = mapped_column(BigInteger, nullable=False)
    capacity_nl: Mapped[int] = mapped_column(BigInteger, nullable=False)
    low_alarm_nl: Mapped[int] = mapped_column(BigInteger, nullable=False)
    refill_due_on: Mapped[date | None] = mapped_column(Date)
    battery: Mapped[str] = mapped_column(String(40), nullable=False)
    battery_eri_days: Mapped[int] = mapped_column(BigInteger, nullable=False)
    alarms: Mapped[str] = mapped_column(Text, nullable=False)
    log_length: Mapped[int] = mapped_column(BigInteger, nullable=False)
    log_head: Mapped[str] = mapped_column(String(64), nullable=False)
    pumped_nl: Mapped[int | None] = mapped_column(BigInteger)
    clock_epoch: Mapped[datetime | None] = mapped_column(UtcDateTime)
