"""Benchmark: the clinician console's server-side render times (issue 17: "the dashboard with
200 patients and a patient page with 90 days of data render server-side in stated times").

For each backend (SQLite in a temporary file; PostgreSQL when it answers on 127.0.0.1:5432,
user postgres, a database made for the run and dropped after), a record is written through
the store's own functions on a fake clock moved forward as it goes:
- 200 patients, each with an implant, a program, a pump reading (one in ten synced two days
  ago: stale; some with a refill due), 3 days of pain diary (2 entries a day), an alarm not
  acknowledged on one in eight;
- one patient with 90 days: the diary 3-6 entries a day, a pump log of patient boluses given
  and refused (hash-chained, `idds.pump.EventLog`) imported weekly with a reading
  (`idds.store.pumplogs.import_log`), the program changed weekly, side effects assessed weekly,
  a refill monthly, a few alarms (acknowledged).
A clinician logs in through the console's login form (fastapi's TestClient, in-process: the
server-side render plus the ASGI round trip, no network) and each page is fetched once to warm
up, then `repetitions` times: the dashboard (`/`), its table alone (`/dashboard/rows`), the
90-day patient's page and its PDF report. The store reads alone (`clinic_overview` with
`triage`, `patient_page`) are timed the same way, to show where the time goes; SQL statements
per request are counted. Prints a table, one JSON line per backend and a one-line summary for
the README. No timed assertions: absolute times depend on the (shared, 2-core) machine.
`python bench/bench_console.py [repetitions]` (default 20).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import benchdb
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import URL

from idds.api import Clinic, DevicePumps
from idds.console.app import create_console
from idds.console.patientview import patient_page
from idds.console.report_pdf import report_pdf
from idds.console.triage import triage
from idds.drugs import DrugLibrary, load_library
from idds.programmer import (
    DeviceDir,
    PumpStatus,
    RefillRequest,
    TherapyPlan,
    TherapyRequest,
    plan_refill_change,
    plan_therapy,
)
from idds.pump import AlarmKind, Continuous, DemandBolus, Drug, EventKind, EventLog, Therapy
from idds.pump.errors import Limit
from idds.pump.records import drug_record, therapy_record
from idds.selection.record import SideEffects
from idds.store import Actor, Database, UserRole, migrate
from idds.store.alarms import acknowledge, record_alarm
from idds.store.clock import FakeClock
from idds.store.diary import add_diary_entry, assess_side_effects
from idds.store.overview import PAIN_WINDOW, clinic_overview
from idds.store.patients import ImplantDetails, record_implant, register_patient
from idds.store.pumplogs import import_log, log_of
from idds.store.readings import record_reading
from idds.store.refills import record_refill
from idds.store.therapy import install_library, record_program
from idds.store.users import add_user
from idds.units import Quantity, parse_quantity

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "benchmark password 1"
#: argon2id at its cheapest: the benchmark measures pages, not password hashing.
CHEAP = PasswordHasher.from_parameters(CHEAPEST)
PATIENTS = 200
DAYS = 90
#: The day (midnight UTC) the 90-day patient's pump was implanted: its pump clock's 0.
T0 = datetime(2026, 3, 2, tzinfo=UTC)
#: The record's time while the pages are measured: 90 days and 12 hours on.
END = T0 + timedelta(days=DAYS, hours=12)
MORPHINE = Drug("morphine", parse_quantity("10 mg/mL"))
HOUR_S, DAY_S = 3600, 86_400


def q(text: str) -> Quantity:
    return parse_quantity(text)


def databases(root: Path) -> Iterator[tuple[str, URL]]:
    """SQLite, then PostgreSQL if it answers (a note is printed when it does not)."""
    return benchdb.databases(root, POSTGRES, "idds_bench_console", lambda why: print(
        f"PostgreSQL not reachable at {POSTGRES} ({why}): skipped"))


# -- the record ------------------------------------------------------------------------------

def therapy(dose: str) -> Therapy:
    return Therapy(Continuous(q(dose)), DemandBolus(q("0.1 mg"), q("10 min"), q("2 h"), 4))


def ml(volume: Fraction) -> Quantity:
    return q(f"{float(volume):.3f} mL")


def status(therapy_now: Therapy, reservoir_ml: Fraction, flow_ml_day: Fraction,
           log_head: str = "0" * 64, log_length: int = 0) -> PumpStatus:
    """A morphine 10 mg/mL pump (20 mL, alarm at 2 mL) as an interrogation shows it."""
    reservoir = ml(reservoir_ml)
    return PumpStatus(
        pump_id="BENCH", time="0", drug="morphine", concentration=q("10 mg/mL"),
        therapy=therapy_now, therapy_text=therapy_now.describe(), therapy_drug="morphine",
        confirmed=True, infusing=True, flow=f"{float(flow_ml_day):g} mL/day",
        dose_rate=f"{float(flow_ml_day * 10):g} mg/day", bolus=None,
        reservoir_estimate=reservoir, reservoir_capacity=q("20 mL"),
        low_reservoir_alarm=q("2 mL"), pumped_since_fill=ml(20 - reservoir_ml),
        refill_due_in_days=max(0.0, float((reservoir_ml - 2) / flow_ml_day)), battery="ok",
        battery_eri_in_days=1500.0, radio_wakeups=0, alarms=(), last_events=(),
        log_head=log_head, log_length=log_length, raw={})


def plan(library: DrugLibrary, current: Therapy, dose: str, today: date) -> TherapyPlan:
    """A checked change from `current` to `dose` (morphine with a patient bolus)."""
    request = TherapyRequest("morphine", q("10 mg/mL"), therapy(dose), opioid_tolerant=True)
    checked = plan_therapy(status(current, Fraction(15), Fraction(1, 10)), request, library,
                           today)
    return checked.with_override_confirmed() if checked.checks.soft else checked


@dataclass
class Record:
    db: Database
    clock: FakeClock
    library: DrugLibrary
    version_id: int
    long_patient: int
    writes: int = 0
    log_entries: int = 0
    diary_entries: int = 0


class Writer:
    """The store's write functions on the record, each with an actor authenticated now."""

    def __init__(self, record: Record) -> None:
        self.r = record

    def actor(self, role: UserRole, name: str = "") -> Actor:
        return Actor(name or f"{role.value}1", role, None, self.r.clock())

    def __call__(self, fn: Callable[..., Any], role: UserRole, *args: Any,
                 **kwargs: Any) -> Any:
        self.r.writes += 1
        return fn(self.r.db, self.actor(role), *args, **kwargs)


class LongPatient:
    """The 90-day patient: the pump's log grows day by day, synced weekly."""

    def __init__(self, record: Record, w: Writer, rng: random.Random) -> None:
        self.r, self.w, self.rng = record, w, rng
        self.log = EventLog()
        self.synced = 0
        self.dose = Fraction(1)  # mg/day
        self.therapy = therapy("1 mg/day")
        self.reservoir = Fraction(20)  # mL
        self.program_id: int | None = None
        nurse, doctor = UserRole.NURSE, UserRole.CLINICIAN
        self.patient = w(register_patient, nurse, "MRN-LONG", "Long Record Patient",
                         date(1962, 7, 19)).id
        self.implant = w(record_implant, doctor, self.patient, ImplantDetails(
            "SN-LONG", "IDDS reference pump", "8709SC", "T10", T0.date(), q("0.1248 mL"))).id
        record.long_patient = self.patient
        drug = drug_record(MORPHINE)
        self.log.append(Fraction(0), EventKind.CREATED, {"reservoir": q("20 mL")})
        self.log.append(Fraction(60), EventKind.REFILL, {
            "expected": q("0 mL"), "withdrawn": q("0 mL"), "mismatch": False,
            "entered": q("20 mL"), "drug": drug})
        self.log.append(Fraction(90), EventKind.DRUG_CHANGED, {"old": None, "new": drug})

    def pump_s(self) -> Fraction:
        return Fraction(int((self.r.clock() - T0).total_seconds()))

    def change_program(self, day: int) -> None:
        """Weekly: up or down by 0.1 mg/day within 1-1.5 mg/day (within the library's
        limits: no override), recorded and set on the pump."""
        step = Fraction(1, 10) if (day // 7) % 8 < 5 else Fraction(-1, 10)
        self.dose = min(Fraction(3, 2), max(Fraction(1), self.dose + step))
        dose = f"{float(self.dose):g} mg/day"
        checked = plan(self.r.library, self.therapy, dose, self.r.clock().date())
        reason = "start" if self.program_id is None else f"week {day // 7}: pain review"
        self.program_id = self.w(record_program, UserRole.CLINICIAN, self.implant, checked,
                                 self.r.version_id, reason, replaces=self.program_id).id
        new = therapy(dose)
        self.log.append(self.pump_s(), EventKind.PROGRAM_CHANGED, {
            "old": therapy_record(self.therapy), "old_confirmed": True,
            "new": therapy_record(new), "drug": drug_record(MORPHINE)})
        self.therapy = new

    def boluses(self, day: int) -> None:
        """The day's patient boluses: 1-4 given (2 h lockout, 4 a day), 0-3 refused."""
        start = day * DAY_S
        presses = sorted(self.rng.uniform(7 * HOUR_S, 23 * HOUR_S)
                         for _ in range(self.rng.randint(2, 7)))
        last, given = -10 * HOUR_S, 0
        for t in presses:
            at = Fraction(start + int(t))
            if at <= self.log.entries[-1].time:
                at = self.log.entries[-1].time + 1
            if t - last < 2 * HOUR_S or given >= 4:
                limit = Limit.LOCKOUT_ACTIVE if given < 4 else Limit.MAX_PER_24H_REACHED
                self.log.append(at, EventKind.BOLUS_REFUSED, {
                    "command": "patient bolus", "limit": limit.name, "reason": limit.value})
                continue
            self.log.append(at, EventKind.BOLUS_STARTED, {
                "kind": "patient", "volume": q("0.01 mL"), "flow": "1 mL/h", "ends_in_s": 36.0})
            self.log.append(at + 36, EventKind.BOLUS_COMPLETED, {
                "kind": "patient", "volume": q("0.01 mL")})
            last, given = t, given + 1
            self.reservoir -= Fraction(1, 100)
        self.reservoir -= self.dose / 10  # the basal day at 10 mg/mL

    def sync(self) -> None:
        """A sync: the log since the last one imported, the interrogation's reading."""
        self.log.append(self.pump_s(), EventKind.INTERROGATED, {})
        new = self.log.entries[self.synced:]
        self.w(import_log, UserRole.NURSE, self.implant, new, self.log.head)
        self.synced = len(self.log)
        self.r.log_entries = len(self.log)
        self.w(record_reading, UserRole.NURSE, self.implant, status(
            self.therapy, self.reservoir, self.dose / 10, self.log.head,
            len(self.log)), self.r.clock().date())

    def refill(self, month: int) -> None:
        left = ml(self.reservoir)
        change = plan_refill_change(status(self.therapy, self.reservoir, self.dose / 10),
                                    RefillRequest(left, q("20 mL"), q("10 mg/mL")),
                                    self.r.library, self.r.clock().date())
        self.w(record_refill, UserRole.NURSE, self.implant, change, f"LOT-{month:03d}",
               self.r.clock().date() + timedelta(days=28))
        self.log.append(self.pump_s(), EventKind.REFILL, {
            "expected": left, "withdrawn": left, "mismatch": False, "entered": q("20 mL"),
            "drug": drug_record(MORPHINE)})
        self.reservoir = Fraction(20)

    def assess(self, week: int) -> None:
        grades = {"nausea": week % 2, "pruritus": (week // 2) % 2, "sedation": 0,
                  "urinary retention": 1 if week % 5 == 0 else 0}
        self.w(assess_side_effects, UserRole.NURSE, self.patient, SideEffects(grades),
               14 + week % 4, f"weekly review {week}")

    def diary(self, day: int) -> None:
        midnight = T0 + timedelta(days=day)
        for _ in range(self.rng.randint(3, 6)):
            felt = midnight + timedelta(minutes=self.rng.randint(6 * 60, 23 * 60))
            note = "breakthrough pain" if self.rng.random() < 0.1 else ""
            self.w(add_diary_entry, UserRole.NURSE, self.patient, felt,
                   min(10, max(0, round(self.rng.gauss(3.5, 1.6)))), note)
            self.r.diary_entries += 1


def build(db: Database, clock: FakeClock, library: DrugLibrary) -> Record:
    """The record of the module docstring; the clock ends at `END`."""
    rng = random.Random(17)
    admin = Actor("root", UserRole.ADMIN, None, clock())
    version = install_library(db, admin, library).id
    add_user(db, admin, "clinician1", UserRole.CLINICIAN, PASSWORD, hasher=CHEAP)
    record = Record(db, clock, library, version, 0)
    w = Writer(record)
    long = LongPatient(record, w, rng)
    clinic: list[tuple[int, int]] = []  # (patient, implant) of the 200
    first = plan(library, therapy("1 mg/day"), "1.2 mg/day", (END - timedelta(days=3)).date())
    for day in range(DAYS):
        clock.now = T0 + timedelta(days=day, hours=8)
        if day % 7 == 0:
            long.change_program(day)
            long.assess(day // 7)
            if day:
                long.sync()
        if day % 30 == 0 and day:
            long.refill(day // 30)
        if day % 17 == 5:
            alarm = w(record_alarm, UserRole.NURSE, long.implant, AlarmKind.MEMORY_ERROR,
                      clock())
            clock.now += timedelta(hours=1)
            w(acknowledge, UserRole.NURSE, alarm.id, alarm.version, "memory check run")
        if day == DAYS - 3:  # the clinic's 200 patients, implanted and programmed
            for i in range(PATIENTS):
                patient = w(register_patient, UserRole.NURSE, f"MRN-{i:04d}",
                            f"Clinic Patient {i:03d}", date(1940 + i % 50, 1 + i % 12, 1)).id
                implant = w(record_implant, UserRole.CLINICIAN, patient, ImplantDetails(
                    f"SN-{i:04d}", "IDDS reference pump", "8709SC", "T10",
                    date(2025, 1, 1) + timedelta(days=i), q("0.1248 mL"))).id
                w(record_program, UserRole.CLINICIAN, implant, first, version, "start",
                  replaces=None)
                clinic.append((patient, implant))
        if day == DAYS - 2:  # one in ten synced two days before the measurement: stale
            _readings(w, clinic[::10], clock.now.date())
        long.boluses(day)
        clock.now = T0 + timedelta(days=day + 1)  # the day over: its diary
        long.diary(day)
        if day >= DAYS - 3:
            for n, (patient, _implant) in enumerate(clinic):
                for hour in (9, 19):
                    felt = T0 + timedelta(days=day, hours=hour)
                    w(add_diary_entry, UserRole.NURSE, patient, felt, (n * 7 + hour + day) % 8)
                    record.diary_entries += 1
    clock.now = END - timedelta(hours=1)
    _readings(w, [pi for i, pi in enumerate(clinic) if i % 10], clock.now.date())
    long.sync()
    for i, (_patient, implant) in enumerate(clinic):
        if i % 8 == 3:
            w(record_alarm, UserRole.NURSE, implant,
              AlarmKind.LOW_RESERVOIR if i % 16 == 3 else AlarmKind.ELECTIVE_REPLACEMENT, clock())
    clock.now = END
    return record


def _readings(w: Writer, implants: list[tuple[int, int]], today: date) -> None:
    """A reading per implant: the reservoir 2.4-18 mL at 0.12 mL/day (some refills due)."""
    for patient, implant in implants:
        reservoir = 2 + Fraction(patient % 40, 40) * 16 + Fraction(4, 10)
        w(record_reading, UserRole.NURSE, implant,
          status(therapy("1.2 mg/day"), reservoir, Fraction(12, 100)), today)


# -- the measurement -------------------------------------------------------------------------

class Statements:
    """Counts the SQL statements the engine executes."""

    def __init__(self, db: Database) -> None:
        self.n = 0
        event.listen(db.engine, "before_cursor_execute", self._count)

    def _count(self, *_args: object) -> None:
        self.n += 1


def timed(fn: Callable[[], object], repetitions: int, counter: Statements) -> dict[str, float]:
    """Median and 95th percentile in ms of `fn` after one warm-up; statements per call."""
    fn()
    before = counter.n
    times = []
    for _ in range(repetitions):
        t0 = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t0))
    times.sort()
    p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1),
            "sql": round((counter.n - before) / repetitions, 1)}


def log_in(client: TestClient) -> None:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
    assert token, "the login form has no CSRF token"
    done = client.post("/login", data={"csrf_token": token.group(1), "username": "clinician1",
                                       "password": PASSWORD, "next": "/"})
    assert done.status_code == 303, done.text


def measure(url: URL, root: Path, repetitions: int) -> dict[str, Any]:
    clock = FakeClock(T0)
    db = Database.open(url, clock)
    migrate.upgrade(db.engine)
    library = load_library()
    t0 = time.perf_counter()
    record = build(db, clock, library)
    build_s = time.perf_counter() - t0
    device = DeviceDir(root / f"programmer-{url.get_backend_name()}", "programmer",
                       lambda: clock().isoformat())
    clinic = Clinic(db, library, record.version_id,
                    DevicePumps(device, library, lambda: clock().date()))
    counter = Statements(db)
    pages: dict[str, dict[str, float]] = {}
    long = record.long_patient
    with TestClient(create_console(clinic), follow_redirects=False) as client:
        log_in(client)
        for name, path in (("dashboard", "/"), ("dashboard rows", "/dashboard/rows"),
                           ("patient page", f"/patients/{long}"),
                           ("report.pdf", f"/patients/{long}/report.pdf")):
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
            if name.startswith("dashboard"):
                assert answer.text.count("Clinic Patient") == PATIENTS, "not every patient"
            size = len(answer.content)

            def get(p: str = path) -> None:
                assert client.get(p).status_code == 200

            pages[name] = {**timed(get, repetitions, counter), "kB": round(size / 1000, 1)}
    doctor = Actor("clinician1", UserRole.CLINICIAN, None, clock())
    pages["store: clinic_overview + triage"] = timed(
        lambda: triage(clinic_overview(db, doctor, END - PAIN_WINDOW), END), repetitions,
        counter)
    pages["store: patient_page"] = timed(lambda: patient_page(db, doctor, long, END),
                                         repetitions, counter)
    implant = patient_page(db, doctor, long, END).pumps[0].implant.id
    pages["  of which log_of (pump log)"] = timed(lambda: log_of(db, doctor, long, implant),
                                                  repetitions, counter)
    view = patient_page(db, doctor, long, END)
    pages["render: report_pdf alone"] = timed(lambda: report_pdf(view, END), repetitions,
                                              counter)
    db.dispose()
    return {"pages": pages, "build_s": round(build_s, 1), "writes": record.writes,
            "diary_entries": record.diary_entries, "log_entries": record.log_entries}


def main(repetitions: int) -> None:
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for backend, url in databases(root):
            results[backend] = result = measure(url, root, repetitions)
            print(json.dumps({"benchmark": "console", "backend": backend, **result,
                              "repetitions": repetitions}), flush=True)
    backends = list(results)
    names = list(results[backends[0]]["pages"])
    head = f"{'page':<34}" + "".join(f"{b + ' median / p95 ms':>28}{'SQL':>6}{'kB':>8}"
                                     for b in backends)
    print(f"\n{PATIENTS} patients on the dashboard; the patient page of {DAYS} days "
          + "; ".join(f"{b}: {r['diary_entries']} diary entries, {r['log_entries']} pump log "
                      f"entries, {r['writes']} writes built in {r['build_s']} s"
                      for b, r in results.items()))
    print(head)
    print("-" * len(head))
    for name in names:
        line = f"{name:<34}"
        for b in backends:
            p = results[b]["pages"][name]
            kb = f"{p['kB']:.1f}" if "kB" in p else "-"
            line += f"{p['median_ms']:>17.1f} / {p['p95_ms']:>6.1f}{p['sql']:>8g}{kb:>8}"
        print(line)
    print("\nsummary: " + "; ".join(
        f"{b}: dashboard ({PATIENTS} patients) {r['pages']['dashboard']['median_ms']:g} ms "
        f"(p95 {r['pages']['dashboard']['p95_ms']:g}), patient page ({DAYS} days) "
        f"{r['pages']['patient page']['median_ms']:g} ms "
        f"(p95 {r['pages']['patient page']['p95_ms']:g}), PDF report "
        f"{r['pages']['report.pdf']['median_ms']:g} ms" for b, r in results.items())
        + f" (median of {repetitions}, TestClient in-process)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repetitions", nargs="?", type=int, default=20,
                        help="timed requests per page after one warm-up (default 20)")
    main(parser.parse_args().repetitions)
