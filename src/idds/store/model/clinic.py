"""Patients, their implants, the drug-library versions installed, and therapy programs.

Units: concentrations as exact ng/nL (numerically mg/mL) in `_num` / `_den` columns, daily
doses as exact ng/day, catheter volumes in whole nL. A therapy is stored as the pump's own
therapy record (`idds.protocol.wire.therapy_to_json`, quantities as exact text with units) in
canonical JSON text, so it reads back as the same `Therapy`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idds.store.model.base import Base, Key, UtcDateTime


class Patient(Base):
    """A patient of the clinic: the clinic's identifier (unique), name and birth date, and a
    random research code that stands for the patient in de-identified data."""

    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    research_code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    birth_date: Mapped[date] = mapped_column(Date, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's own form)


class Implant(Base):
    """A pump implanted in a patient: serial (unique) and model, the catheter, the dates, and
    the public halves of the pairing keys (raw bytes; private halves never leave the
    devices)."""

    __tablename__ = "implant"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), nullable=False)
    pump_serial: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    pump_model: Mapped[str] = mapped_column(String(100), nullable=False)
    catheter_model: Mapped[str] = mapped_column(String(100), nullable=False)
    catheter_tip: Mapped[str] = mapped_column(String(40), nullable=False)
    catheter_volume_nl: Mapped[int | None] = mapped_column(BigInteger)
    implanted_on: Mapped[date] = mapped_column(Date, nullable=False)
    explanted_on: Mapped[date | None] = mapped_column(Date)
    pump_public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    programmer_public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's own form)


class LibraryVersion(Base):
    """A signed drug library installed at the clinic: its name, version, issuer, the key that
    signed it, the SHA-256 of the file, and who installed it when."""

    __tablename__ = "library_version"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    version: Mapped[str] = mapped_column(String(64), nullable=False)
    issued_by: Mapped[str] = mapped_column(String(200), nullable=False)
    signed_by: Mapped[str] = mapped_column(String(200), nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    installed_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    installed_by: Mapped[str] = mapped_column(String(64), nullable=False)


class TherapyProgram(Base):
    """One therapy programmed into a pump, with the program it replaced, the reason, the
    library version and checks that ran (canonical JSON list of breaches) and any soft-limit
    override reason. Never updated: a change is a new row pointing at the previous one."""

    __tablename__ = "therapy_program"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), nullable=False)
    implant_id: Mapped[int] = mapped_column(ForeignKey("implant.id"), nullable=False)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("therapy_program.id"),
                                                    unique=True)
    drug: Mapped[str] = mapped_column(String(64), nullable=False)
    concentration_num: Mapped[int] = mapped_column(BigInteger, nullable=False)
    concentration_den: Mapped[int] = mapped_column(BigInteger, nullable=False)
    therapy: Mapped[str] = mapped_column(Text, nullable=False)
    daily_dose_num: Mapped[int | None] = mapped_column(BigInteger)
    daily_dose_den: Mapped[int | None] = mapped_column(BigInteger)
    library_version_id: Mapped[int] = mapped_column(ForeignKey("library_version.id"),
                                                    nullable=False)
    checks: Mapped[str] = mapped_column(Text, nullable=False)
    override_reason: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    programmed_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    programmed_by: Mapped[str] = mapped_column(String(64), nullable=False)
