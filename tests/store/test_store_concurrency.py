"""Two writers racing on one row: the second gets a clear conflict, the first's change stays,
and the audit chain stays whole (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import URL

from idds.store import patients
from idds.store.audit import verify_chain
from idds.store.clock import FakeClock
from idds.store.database import Database
from idds.store.errors import StaleWriteError
from idds.store.model import Patient
from idds.store.permissions import Action, Actor
from idds.store.rows import fetch


def test_a_race_between_two_writers_loses_no_update(url: URL, clock: FakeClock,
                                                    nurse: Actor) -> None:
    first, second = Database.open(url, clock), Database.open(url, clock)
    try:
        patient = patients.register_patient(first, nurse, "MRN-1", "Ada", date(1950, 1, 1))
        with pytest.raises(StaleWriteError), first.write(nurse, Action.UPDATE_PATIENT) as w:
            row = fetch(w.session, Patient, patient.id)  # the first writer has read version 1
            patients.update_patient(second, nurse, patient.id, 1, "second", name="Second")
            w.update(row, {"name": "First"}, 1, "first")  # its UPDATE finds version 2
        back = patients.get_patient(first, nurse, patient.id)
        assert (back.name, back.version) == ("Second", 2)
        with first.session() as session:
            check = verify_chain(session)
        assert (check.ok, check.count) == (True, 2)
    finally:
        first.dispose()
        second.dispose()
