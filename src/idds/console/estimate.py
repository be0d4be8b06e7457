"""The record as the controller's inputs: the patient's diary and respiratory rates
(`ClinicalInput`) and the pump's stored log (`LogDownload`; its hash chain was verified when
it was imported), for the advice and the what-if of a patient the console shows. The
record has no oral morphine or sedation score (POSS) entries: oral morphine is taken as none
and sedation as not assessed; the clinician's bounds are the defaults of
`idds.control.bounds.ClinicianBounds`.
"""

from __future__ import annotations

from idds.control.bounds import ClinicianBounds
from idds.programmer.advisory.clinical import ClinicalInput, TimedEntry
from idds.programmer.api import LogDownload
from idds.store import Actor, Database
from idds.store.diary import assessments_of, diary_of
from idds.store.pumplogs import log_of


def clinical_input(db: Database, actor: Actor, patient_id: int) -> ClinicalInput:
    """The patient's diary (NRS) and counted respiratory rates (breaths/min)."""
    diary = tuple(TimedEntry(e.felt_at, float(e.pain), "diary")
                  for e in diary_of(db, actor, patient_id))
    breathing = tuple(TimedEntry(a.assessed_at, float(a.respiratory_rate_per_min), "assessment")
                      for a in assessments_of(db, actor, patient_id)
                      if a.respiratory_rate_per_min is not None)
    return ClinicalInput(diary=diary, sedation=(), respiratory=breathing, side_effects=(),
                         oral_mg_per_day=0.0, oral_rescue_mg=0.0, bounds=ClinicianBounds(),
                         clinician=actor.username)


def stored_log(db: Database, actor: Actor, patient_id: int, implant_id: int) -> LogDownload:
    """The implant's log as stored (verified on import), as a download."""
    entries = tuple(log_of(db, actor, patient_id, implant_id))
    return LogDownload(entries, entries[-1].hash if entries else "", True,
                       "verified when imported")
