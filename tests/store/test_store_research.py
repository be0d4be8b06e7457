"""A researcher reads the diary de-identified: codes, capped ages, days; nothing else."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from idds.store import diary, patients
from idds.store.clock import FakeClock
from idds.store.database import Database
from idds.store.errors import AccessDeniedError
from idds.store.permissions import Actor, UserRole
from idds.store.research import DeidentifiedPain, age_years, deidentified_diary
from tests.store.store_helpers import START


def test_the_diary_de_identified(db: Database, nurse: Actor, clock: FakeClock) -> None:
    old = patients.register_patient(db, nurse, "MRN-1", "Old Person", date(1930, 6, 1),
                                    codes=lambda n: "a" * (2 * n))
    young = patients.register_patient(db, nurse, "MRN-2", "Young Person", date(1980, 3, 3),
                                      codes=lambda n: "b" * (2 * n))
    clock.advance(days=3)
    diary.add_diary_entry(db, nurse, old.id, START, 6)
    diary.add_diary_entry(db, nurse, old.id, START + timedelta(days=2), 4)
    diary.add_diary_entry(db, nurse, young.id, START + timedelta(hours=1), 8)
    rows = deidentified_diary(db, Actor("res", UserRole.RESEARCHER))
    assert rows == [DeidentifiedPain("a" * 16, 90, 0, 6), DeidentifiedPain("a" * 16, 90, 2, 4),
                    DeidentifiedPain("b" * 16, 45, 0, 8)]
    shown = repr(rows)
    assert "MRN" not in shown and "Person" not in shown and "1930" not in shown
    with pytest.raises(AccessDeniedError):
        deidentified_diary(db, nurse)


def test_age_in_whole_years() -> None:
    assert age_years(date(2000, 3, 2), date(2026, 3, 1)) == 25
    assert age_years(date(2000, 3, 2), date(2026, 3, 2)) == 26
    assert age_years(date(1900, 1, 1), date(2026, 1, 1)) == 90
