"""The tables of the clinic's record (SQLAlchemy 2 declarative, typed `Mapped` columns).

`Base.metadata` is what the Alembic migrations create and what the drift check compares.
"""

from idds.store.model.audit import AuditRecord
from idds.store.model.base import Base
from idds.store.model.care import Alarm, DiaryEntry, Refill, SideEffectAssessment
from idds.store.model.clinic import Implant, LibraryVersion, Patient, TherapyProgram
from idds.store.model.decisions import CandidacyRecord, RecommendationRecord, ScreeningRecord
from idds.store.model.pumplog import PumpLogRecord, PumpReading
from idds.store.model.users import User, UserSession

__all__ = [
    "Alarm",
    "AuditRecord",
    "Base",
    "CandidacyRecord",
    "DiaryEntry",
    "Implant",
    "LibraryVersion",
    "Patient",
    "PumpLogRecord",
    "PumpReading",
    "RecommendationRecord",
    "Refill",
    "ScreeningRecord",
    "SideEffectAssessment",
    "TherapyProgram",
    "User",
    "UserSession",
]
