"""The demo clinic of `idds console --demo`: users of every role, and one virtual patient per
emulated pump, each with an implant, a refill and a therapy sent over the secure link and
recorded through the same steps as the API's confirm routes (`idds.api.changes`), then
synced once. Demo data, for trying the console: the people are invented; the therapies are
intrathecal morphine starts within the drug library's limits. Each patient's 14 days since
the implant (the pain diary three times a day, the latest side-effect grades) are what the
virtual-patient model predicts for the typical patient of an archetype under standard
intrathecal care (`idds.trial.case.follow`), not observations. Patient C's reservoir was
filled short (1.9 mL, under the 2 mL low-reservoir alarm volume), so the demo opens on a real
pump alarm and a refill due.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from starlette.concurrency import run_in_threadpool

from idds.api.changes import send_refill, send_therapy
from idds.api.clinic import Clinic
from idds.api.linked import talking_to
from idds.api.sync import sync_all
from idds.physiology.symptoms import Symptom
from idds.programmer import RefillRequest, TherapyRequest
from idds.pump import Continuous, DemandBolus, Therapy
from idds.selection.record import SideEffects
from idds.store import Actor, UserRole
from idds.store.diary import add_diary_entry, assess_side_effects
from idds.store.patients import ImplantDetails, record_implant, register_patient
from idds.store.users import add_user
from idds.trial.case import follow
from idds.units import parse_quantity

#: The arm whose course the demo's history is (standard intrathecal care).
ARM = "it-standard"

@dataclass(frozen=True)
class DemoPatient:
    name: str
    birth: date
    dose: str  # per day
    fill: str  # the reservoir volume at the refill
    archetype: str  # whose typical course the diary shows (`idds.physiology.ARCHETYPES`)


#: The demo patients. The first is the seed case of docs/references.md (a 47-year-old man,
#: renal cancer with bone metastases).
PATIENTS = (
    DemoPatient("Seed Case (renal cancer, bone metastases)", date(1979, 4, 2), "0.5 mg/day",
                "20 mL", "seed-case"),
    DemoPatient("Demo Patient B (pancreatic cancer)", date(1958, 9, 14), "0.6 mg/day",
                "20 mL", "fast-progression"),
    DemoPatient("Demo Patient C (breast cancer, spinal metastases)", date(1966, 1, 30),
                "0.8 mg/day", "1.9 mL", "typical-tolerant"),
)
#: The days since the implant that the demo's history covers, and the diary's hours (UTC).
HISTORY_DAYS = 14
DIARY_HOURS = (8, 14, 20)
STAFF = (("admin", UserRole.ADMIN), ("clinician", UserRole.CLINICIAN),
         ("nurse", UserRole.NURSE), ("researcher", UserRole.RESEARCHER))


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: UserRole
    password: str


async def seed_demo(clinic: Clinic, pump_serials: list[str], installer: Actor
                    ) -> list[DemoLogin]:
    """Write the demo clinic into an empty record, one patient per paired pump; returns the
    logins (random passwords, to print once)."""
    logins = [DemoLogin(name, role, secrets.token_urlsafe(9)) for name, role in STAFF]
    for login in logins:
        add_user(clinic.db, installer, login.username, login.role, login.password)
    doctor = Actor("clinician", UserRole.CLINICIAN, authenticated_at=clinic.db.now())
    nurse = Actor("nurse", UserRole.NURSE, authenticated_at=clinic.db.now())
    today = clinic.today()
    for number, (serial, demo) in enumerate(zip(pump_serials, PATIENTS, strict=False),
                                            start=1):
        patient = register_patient(clinic.db, nurse, f"DEMO-{number:03d}", demo.name,
                                   demo.birth)
        implant = record_implant(clinic.db, doctor, patient.id, ImplantDetails(
            serial, "IDDS emulated pump", "intrathecal catheter", "T10",
            today - timedelta(days=HISTORY_DAYS), parse_quantity("0.1248 mL")))
        async with talking_to(clinic, implant) as programmer:
            change = await programmer.plan_refill(RefillRequest(
                parse_quantity("0 mL"), parse_quantity(demo.fill), parse_quantity("10 mg/mL"),
                "morphine"))
        await send_refill(clinic, nurse, implant, change, f"DEMO-LOT-{number}", today)
        therapy = Therapy(Continuous(parse_quantity(demo.dose)), DemandBolus(
            parse_quantity("0.05 mg"), parse_quantity("10 min"), parse_quantity("2 h"), 4))
        async with talking_to(clinic, implant) as programmer:
            plan = await programmer.plan_therapy(TherapyRequest(
                "morphine", parse_quantity("10 mg/mL"), therapy, opioid_tolerant=True))
        await send_therapy(clinic, doctor, implant, plan, None, clinic.library_version_id,
                           "demo clinic: starting dose")
        await run_in_threadpool(_history, clinic, nurse, patient.id, demo.archetype)
        password = secrets.token_urlsafe(9)
        add_user(clinic.db, installer, f"patient{number}", UserRole.PATIENT, password,
                 patient.id)
        logins.append(DemoLogin(f"patient{number}", UserRole.PATIENT, password))
    await sync_all(clinic, nurse)
    return logins


def _history(clinic: Clinic, nurse: Actor, patient_id: int, archetype: str) -> None:
    """The model's 14 days since the implant as the patient's diary, and its latest grades."""
    days = follow(archetype, (ARM,), HISTORY_DAYS, clinic.library).days[ARM][1:]
    midnight = datetime.combine(clinic.today(), time(0), UTC)
    for back, day in enumerate(reversed(days)):
        for hour in DIARY_HOURS:
            felt = midnight - timedelta(days=back) + timedelta(hours=hour)
            if felt <= clinic.db.now():
                add_diary_entry(clinic.db, nurse, patient_id, felt, round(day.pain_mean))
    last = days[-1]
    grades = {symptom.name.lower().replace("_", " "): grade
              for symptom, grade in zip(Symptom, last.symptom_grades, strict=True)}
    assess_side_effects(clinic.db, nurse, patient_id, SideEffects(grades),
                        round(last.respiratory_rate_min), "demo: the model's grades, day 14")
