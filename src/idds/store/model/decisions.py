"""Controller recommendations with the clinician's decision, candidacy assessments and
screening trials.

Units: the screening dose in whole ng; pain scores 0-10 (numeric rating scale).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idds.store.model.base import Base, Key, UtcDateTime


class RecommendationRecord(Base):
    """What a controller recommended (canonical JSON), its reasons, and the clinician's
    decision (accepted / rejected, by whom, when, why; the program it led to)."""

    __tablename__ = "recommendation"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), nullable=False)
    controller: Mapped[str] = mapped_column(String(64), nullable=False)
    recommended: Mapped[str] = mapped_column(Text, nullable=False)
    reasons: Mapped[str] = mapped_column(Text, nullable=False)
    made_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    decision: Mapped[str | None] = mapped_column(String(20))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("therapy_program.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's own form)


class CandidacyRecord(Base):
    """A candidacy assessment (`idds.selection.CandidacyVerdict`): outcome, summary, the
    criteria and their version, every finding (canonical JSON)."""

    __tablename__ = "candidacy"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), nullable=False)
    outcome: Mapped[str] = mapped_column(String(40), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    criteria_name: Mapped[str] = mapped_column(String(200), nullable=False)
    criteria_version: Mapped[str] = mapped_column(String(64), nullable=False)
    findings: Mapped[str] = mapped_column(Text, nullable=False)
    assessed_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    assessed_by: Mapped[str] = mapped_column(String(64), nullable=False)


class ScreeningRecord(Base):
    """A screening trial in the clinic: method (bolus / infusion), drug and dose, pain before
    and the lowest after, the verdict and its reasons (canonical JSON list)."""

    __tablename__ = "screening"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), nullable=False)
    method: Mapped[str] = mapped_column(String(20), nullable=False)
    drug: Mapped[str] = mapped_column(String(64), nullable=False)
    dose_ng: Mapped[int] = mapped_column(BigInteger, nullable=False)
    baseline_pain: Mapped[int] = mapped_column(Integer, nullable=False)
    lowest_pain: Mapped[int] = mapped_column(Integer, nullable=False)
    verdict: Mapped[str] = mapped_column(String(40), nullable=False)
    reasons: Mapped[str] = mapped_column(Text, nullable=False)
    screened_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    screened_by: Mapped[str] = mapped_column(String(64), nullable=False)
