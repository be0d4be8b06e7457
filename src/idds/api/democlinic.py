"""The demo clinic of `idds console --demo`: users of every role, and one virtual patient per
emulated pump, each with an implant, a refill and a therapy sent over the secure link and
recorded, exactly as the API's own routes do it. Demo data, for trying the console: the
people are invented; the therapies are the drug library's usual intrathecal morphine starts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from idds.api.clinic import Clinic
from idds.programmer import RefillRequest, TherapyRequest
from idds.pump import Continuous, DemandBolus, Therapy
from idds.store import Actor, UserRole
from idds.store.patients import ImplantDetails, record_implant, register_patient
from idds.store.refills import record_refill
from idds.store.therapy import record_program
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
        async with clinic.pumps.open(serial) as programmer:
            change = await programmer.plan_refill(RefillRequest(
                parse_quantity("0 mL"), parse_quantity("20 mL"), parse_quantity("10 mg/mL"),
                "morphine"))
            await programmer.send_refill(change)
            record_refill(clinic.db, nurse, implant.id, change, f"DEMO-LOT-{number}", None)
            therapy = Therapy(Continuous(parse_quantity(dose)), DemandBolus(
                parse_quantity("0.05 mg"), parse_quantity("10 min"), parse_quantity("2 h"), 4))
            plan = await programmer.plan_therapy(TherapyRequest(
                "morphine", parse_quantity("10 mg/mL"), therapy, opioid_tolerant=True))
            await programmer.send_therapy(plan)
            record_program(clinic.db, doctor, implant.id, plan, clinic.library_version_id,
                           "demo clinic: starting dose", replaces=None)
        password = secrets.token_urlsafe(9)
        add_user(clinic.db, installer, f"patient{number}", UserRole.PATIENT, password,
                 patient.id)
        logins.append(DemoLogin(f"patient{number}", UserRole.PATIENT, password))
    return logins
