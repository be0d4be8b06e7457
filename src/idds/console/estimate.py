"""The record as the controller's inputs (`ClinicalInput`): the patient's diary, respiratory
rates and side-effect burden (each assessment's worst dose-limiting grade as a 0-10 rating,
`idds.control.sideeffects.burden_of_grades`), and the pump's stored log (`LogDownload`; its
hash chain was verified when it was imported), for the advice and the what-if of a patient
the console shows. The record has no oral morphine or sedation score (POSS) entries: oral
morphine is taken as none and sedation as not assessed; the clinician's bounds are the
defaults of `idds.control.bounds.ClinicianBounds`.
"""

from __future__ import annotations

from idds.control.bounds import ClinicianBounds
from idds.control.sideeffects import burden_of_grades
from idds.programmer.advisory.clinical import ClinicalInput, TimedEntry
from idds.programmer.api import LogDownload
from idds.store import Actor, Database
from idds.store.diary import assessment_grades, assessments_of, diary_of
from idds.store.pumplogs import log_of


def clinical_input(db: Database, actor: Actor, patient_id: int) -> ClinicalInput:
    """The patient's diary (NRS), counted respiratory rates (breaths/min) and side-effect
    burden (0-10)."""
    diary = tuple(TimedEntry(e.felt_at, float(e.pain), "diary")
                  for e in diary_of(db, actor, patient_id))
    assessments = assessments_of(db, actor, patient_id)
    breathing = tuple(TimedEntry(a.assessed_at, float(a.respiratory_rate_per_min), "assessment")
                      for a in assessments if a.respiratory_rate_per_min is not None)
    rated = ((a.assessed_at, burden_of_grades(assessment_grades(a).grades))
             for a in assessments)
    burden = tuple(TimedEntry(at, value, "assessment") for at, value in rated
                   if value is not None)
    return ClinicalInput(diary=diary, sedation=(), respiratory=breathing, side_effects=burden,
                         oral_mg_per_day=0.0, oral_rescue_mg=0.0, bounds=ClinicianBounds(),
                         clinician=actor.username)


def stored_log(db: Database, actor: Actor, patient_id: int, implant_id: int) -> LogDownload:
    """The implant's log as stored (verified on import), as a download."""
    entries = tuple(log_of(db, actor, patient_id, implant_id))
    return LogDownload(entries, entries[-1].hash if entries else "", True,
                       "verified when imported")
