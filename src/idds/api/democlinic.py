"""The demo clinic of `idds console --demo`: users of every role, and one virtual patient per
emulated pump, each with an implant, a refill and a therapy sent over the secure link and
recorded through the same steps as the API's confirm routes (`idds.api.changes`). Demo
data, for trying the console: the people are invented; the therapies are intrathecal
morphine starts within the drug library's limits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from idds.api.changes import send_refill, send_therapy
from idds.api.clinic import Clinic
from idds.api.linked import talking_to
from idds.programmer import RefillRequest, TherapyRequest
from idds.pump import Continuous, DemandBolus, Therapy
from idds.store import Actor, UserRole
from idds.store.patients import ImplantDetails, record_implant, register_patient
from idds.store.users import add_user
from idds.units import parse_quantity

#: The demo patients: name, birth date, daily intrathecal morphine dose. The first is the
#: seed case of docs/references.md (a 47-year-old man, renal cancer with bone metastases).
PATIENTS = (
    ("Seed Case (renal cancer, bone metastases)", date(1979, 4, 2), "0.5 mg/day"),
    ("Demo Patient B (pancreatic cancer)", date(1958, 9, 14), "0.6 mg/day"),
    ("Demo Patient C (breast cancer, spinal metastases)", date(1966, 1, 30), "0.8 mg/day"),
)
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
    for number, (serial, (name, birth, dose)) in enumerate(zip(pump_serials, PATIENTS,
                                                               strict=False), start=1):
        patient = register_patient(clinic.db, nurse, f"DEMO-{number:03d}", name, birth)
        implant = record_implant(clinic.db, doctor, patient.id, ImplantDetails(
            serial, "IDDS emulated pump", "intrathecal catheter", "T10",
            today - timedelta(days=14), parse_quantity("0.1248 mL")))
        async with talking_to(clinic, implant) as programmer:
            change = await programmer.plan_refill(RefillRequest(
                parse_quantity("0 mL"), parse_quantity("20 mL"), parse_quantity("10 mg/mL"),
                "morphine"))
        await send_refill(clinic, nurse, implant, change, f"DEMO-LOT-{number}", today)
        therapy = Therapy(Continuous(parse_quantity(dose)), DemandBolus(
            parse_quantity("0.05 mg"), parse_quantity("10 min"), parse_quantity("2 h"), 4))
        async with talking_to(clinic, implant) as programmer:
            plan = await programmer.plan_therapy(TherapyRequest(
                "morphine", parse_quantity("10 mg/mL"), therapy, opioid_tolerant=True))
        await send_therapy(clinic, doctor, implant, plan, None, clinic.library_version_id,
                           "demo clinic: starting dose")
        password = secrets.token_urlsafe(9)
        add_user(clinic.db, installer, f"patient{number}", UserRole.PATIENT, password,
                 patient.id)
        logins.append(DemoLogin(f"patient{number}", UserRole.PATIENT, password))
    return logins
