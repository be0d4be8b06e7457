"""Refills, pain diary entries, side-effect assessments and alarms.

Units: volumes in whole nL, concentrations as exact ng/nL (= mg/mL) in `_num` / `_den`
columns, pain on the 0-10 numeric rating scale (LOINC 72514-3), side-effect grades 0-4
(CTCAE-like, as `idds.selection.record.SideEffects`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idds.store.model.base import Base, Key, UtcDateTime


class Refill(Base):
    """A refill as its form records it (ref, workflow: MiniMed 3160 manual): drug,
    concentration, lot, expected and withdrawn volume, volume filled, next refill date,
    operator, and whether expected and withdrawn disagreed beyond the pump's accuracy."""

    __tablename__ = "refill"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), nullable=False)
    implant_id: Mapped[int] = mapped_column(ForeignKey("implant.id"), nullable=False)
    drug: Mapped[str] = mapped_column(String(64), nullable=False)
    concentration_num: Mapped[int] = mapped_column(BigInteger, nullable=False)
    concentration_den: Mapped[int] = mapped_column(BigInteger, nullable=False)
    lot: Mapped[str] = mapped_column(String(64), nullable=False)
    expected_nl: Mapped[int] = mapped_column(BigInteger, nullable=False)
    withdrawn_nl: Mapped[int] = mapped_column(BigInteger, nullable=False)
    filled_nl: Mapped[int] = mapped_column(BigInteger, nullable=False)
    mismatch: Mapped[bool] = mapped_column(nullable=False)
    next_refill_on: Mapped[date | None] = mapped_column(Date)
    refilled_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    operator: Mapped[str] = mapped_column(String(64), nullable=False)


class DiaryEntry(Base):
    """A pain diary entry: the time the pain was felt, its score 0-10, an optional note."""

    __tablename__ = "diary_entry"
    __table_args__ = (CheckConstraint("pain >= 0 AND pain <= 10", name="pain_0_to_10"),)

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), nullable=False)
    felt_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    pain: Mapped[int] = mapped_column(Integer, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)


class SideEffectAssessment(Base):
    """Side effects graded by a nurse or clinician: canonical JSON {name: grade 0-4}, the
    respiratory rate in breaths/min when counted, and a note."""

    __tablename__ = "side_effect_assessment"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), nullable=False)
    assessed_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    grades: Mapped[str] = mapped_column(Text, nullable=False)
    respiratory_rate_per_min: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    assessed_by: Mapped[str] = mapped_column(String(64), nullable=False)


class Alarm(Base):
    """A pump alarm (`idds.pump.AlarmKind` value and its priority): when it was raised, when
    the care team saw it and who acknowledged it when."""

    __tablename__ = "alarm"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), nullable=False)
    implant_id: Mapped[int] = mapped_column(ForeignKey("implant.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    priority: Mapped[str] = mapped_column(String(20), nullable=False)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    seen_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's own form)
