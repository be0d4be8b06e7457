"""De-identified data for researchers (`Action.READ_DEIDENTIFIED`): no name, identifier,
birth date or calendar date leaves this module.

Each patient appears as their random research code; ages are whole years, 90 and above shown
as 90 (HIPAA Safe Harbor, 45 CFR 164.514(b)(2): dates other than the year, and ages over 89,
are identifiers); times are whole days since the patient's first diary entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from idds.store.database import Database
from idds.store.model import DiaryEntry, Patient
from idds.store.permissions import Action, Actor

#: Ages at or above this are shown as this (HIPAA Safe Harbor groups ages over 89).
AGE_CAP = 90


@dataclass(frozen=True)
class DeidentifiedPain:
    """One diary score: the patient's research code, their age in whole years at the entry
    (capped at `AGE_CAP`), the whole day since their first entry, the pain 0-10."""

    code: str
    age_years: int
    day: int
    pain: int


def age_years(birth: date, on: date) -> int:
    """Whole years from `birth` to `on`, capped at `AGE_CAP`."""
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return min(years, AGE_CAP)


def deidentified_diary(db: Database, actor: Actor) -> list[DeidentifiedPain]:
    """Every diary score of every patient, de-identified, by code then day."""
    with db.read(actor, Action.READ_DEIDENTIFIED) as session:
        rows = session.execute(select(Patient.research_code, Patient.birth_date,
                                      DiaryEntry.felt_at, DiaryEntry.pain)
                               .join(DiaryEntry, DiaryEntry.patient_id == Patient.id)
                               .order_by(Patient.research_code, DiaryEntry.felt_at)).all()
    first: dict[str, date] = {}
    out = []
    for code, birth, felt_at, pain in rows:
        start = first.setdefault(code, felt_at.date())
        out.append(DeidentifiedPain(code, age_years(birth, felt_at.date()),
                                    (felt_at.date() - start).days, pain))
    return out
