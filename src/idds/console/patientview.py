"""Everything the patient page shows, read from the record (no pump is contacted): the pump
panel as the programmer's one screen shows it (drug and concentration, mode and dose,
reservoir and its alarm volume, battery and ERI, patient-bolus use against allowed, last
refill, ref. Medtronic A810 / Prometra programmer, docs/console.md), the next refill date
worst case (the pump's: every allowed bolus used) and expected (from the patient's own bolus
use over the last `USE_WINDOW` of the pump log), the dose history, boluses by hour of the
pump's clock, the pain diary as bands, side effects, alarms and the event timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

from idds.console import charts
from idds.dosing import plan_refill
from idds.errors import IddsError
from idds.pump import BolusKind, Command
from idds.pump.log import EventKind, LogEntry
from idds.store import Actor, Database
from idds.store.alarms import alarms_of
from idds.store.decisions import recommendations_of
from idds.store.diary import assessment_grades, assessments_of, diary_of
from idds.store.model import (
    Alarm,
    Implant,
    Patient,
    PumpReading,
    RecommendationRecord,
    Refill,
    SideEffectAssessment,
    TherapyProgram,
)
from idds.store.overview import reviews_of
from idds.store.patients import get_patient, implants_of
from idds.store.pumplogs import log_of
from idds.store.quantities import concentration_of, daily_dose_of, volume_of
from idds.store.readings import readings_of
from idds.store.refills import refills_of
from idds.store.therapy import program_therapy, programs_of
from idds.units import Quantity, parse_quantity

#: The span of the pump log that the expected refill date's bolus use is averaged over, and
#: the least span it needs (a shorter log says too little: no expected date yet).
USE_WINDOW = timedelta(days=7)
LEAST_USE_SPAN = timedelta(days=1)
#: The span of diary over which the typical day is drawn (AGP: 14 days, Battelino 2019).
TYPICAL_DAY = timedelta(days=14)
#: The typical day's chart title, on the patient page and the printed summary.
TYPICAL_DAY_TITLE = f"Pain over a typical day (last {TYPICAL_DAY.days} days, by UTC hour)"
DAY_S = 86_400


@dataclass(frozen=True)
class BolusUse:
    """Patient boluses by hour of the pump's clock (0-23) in the log, and the daily mean
    mass given over the last `USE_WINDOW` of it (None: no log or no concentration)."""

    given: tuple[int, ...]
    refused: tuple[int, ...]
    given_24h: int
    mean_per_day: Quantity | None


@dataclass(frozen=True)
class PumpPanel:
    implant: Implant
    reading: PumpReading | None
    program: TherapyProgram | None
    use: BolusUse
    refill_expected: date | None
    last_refill: Refill | None

    @property
    def therapy_text(self) -> str:
        return "-" if self.program is None else program_therapy(self.program).describe()

    @property
    def daily_dose(self) -> Quantity | None:
        p = self.program
        return None if p is None else daily_dose_of(p.daily_dose_num, p.daily_dose_den)

    @property
    def allowed_24h(self) -> int | None:
        demand = None if self.program is None else program_therapy(self.program).demand
        return None if demand is None else demand.max_per_24h


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    kind: str
    text: str
    by: str


@dataclass(frozen=True)
class PatientPage:
    patient: Patient
    pumps: tuple[PumpPanel, ...]
    programs: tuple[TherapyProgram, ...]
    diary_day: charts.Bands
    diary_weeks: charts.Bands
    assessments: tuple[tuple[SideEffectAssessment, dict[str, int]], ...]
    alarms: tuple[Alarm, ...]
    recommendations: tuple[RecommendationRecord, ...]
    timeline: tuple[TimelineEvent, ...]


def _mass(entry: LogEntry, concentration: Quantity | None) -> Quantity | None:
    volume = entry.value("volume")
    if concentration is None or not isinstance(volume, str):
        return None
    try:
        return parse_quantity(volume) * concentration
    except IddsError:
        return None


def bolus_use(log: list[LogEntry], concentration: Quantity | None) -> BolusUse:
    """Patient boluses given (started) and refused, by hour of the pump's clock; the count in
    the log's last 24 h; the daily mean mass over its last `USE_WINDOW` (None when the log
    spans less than `LEAST_USE_SPAN`)."""
    given, refused = [0] * 24, [0] * 24
    end = log[-1].time if log else Fraction(0)
    recent = Quantity.of(0, "mg")
    given_24h, seen_mass = 0, concentration is not None
    for e in log:
        hour = int(e.time % DAY_S // 3600)
        if e.kind is EventKind.BOLUS_STARTED and e.bolus_kind() is BolusKind.PATIENT:
            given[hour] += 1
            given_24h += end - e.time < DAY_S
            if end - e.time < USE_WINDOW.total_seconds():
                mass = _mass(e, concentration)
                seen_mass = seen_mass and mass is not None
                recent = recent + mass if mass is not None else recent
        elif e.kind is EventKind.BOLUS_REFUSED and e.command() is Command.PATIENT_BOLUS:
            refused[hour] += 1
    span_days = (min(Fraction(end - log[0].time) / DAY_S, Fraction(USE_WINDOW.days)) if log
                 else Fraction(0))
    enough = span_days >= Fraction(LEAST_USE_SPAN.days)
    mean = recent / Quantity.of(span_days, "day") if seen_mass and enough else None
    return BolusUse(tuple(given), tuple(refused), given_24h, mean)


def expected_refill(reading: PumpReading, program: TherapyProgram | None,
                    use: BolusUse) -> date | None:
    """When the reservoir reaches its alarm volume at the basal dose plus the patient's own
    mean bolus use (the worst case, every bolus used, is the pump's `refill_due_on`)."""
    basal = None if program is None else daily_dose_of(program.daily_dose_num,
                                                       program.daily_dose_den)
    if basal is None or use.mean_per_day is None or program is None:
        return None
    demand = program_therapy(program).demand
    most = (Quantity.of(0, "mg/day") if demand is None else
            demand.dose * demand.max_per_24h / Quantity.of(1, "day"))
    bolus = min(use.mean_per_day.to("mg/day"), most.to("mg/day"))  # never past the allowed
    volume, alarm = volume_of(reading.reservoir_nl), volume_of(reading.low_alarm_nl)
    if alarm > volume or not volume.is_positive():
        return None
    try:
        plan = plan_refill(volume, alarm, concentration_of(program.concentration_num,
                                                           program.concentration_den),
                           basal + bolus.to(basal.unit), reading.read_at.date(),
                           reservoir_capacity=volume_of(reading.capacity_nl))
    except IddsError:
        return None
    return plan.alarm_date


def _panel(db: Database, actor: Actor, patient_id: int, implant: Implant,
           programs: list[TherapyProgram], refills: list[Refill]) -> PumpPanel:
    readings = readings_of(db, actor, patient_id, implant.id)
    reading = readings[-1] if readings else None
    mine = [p for p in programs if p.implant_id == implant.id]
    program = mine[-1] if mine else None
    concentration = None if program is None else concentration_of(program.concentration_num,
                                                                   program.concentration_den)
    use = bolus_use(log_of(db, actor, patient_id, implant.id), concentration)
    done = [r for r in refills if r.implant_id == implant.id]
    return PumpPanel(implant, reading, program, use,
                     None if reading is None else expected_refill(reading, program, use),
                     done[-1] if done else None)


def _timeline(programs: list[TherapyProgram], refills: list[Refill], alarms: list[Alarm],
              assessments: list[SideEffectAssessment], notes: list[tuple[datetime, str, str]]
              ) -> tuple[TimelineEvent, ...]:
    events = [TimelineEvent(p.programmed_at, "program", f"{program_therapy(p).describe()} "
                            f"({p.reason})", p.programmed_by) for p in programs]
    events += [TimelineEvent(r.refilled_at, "refill", f"{r.drug} lot {r.lot}, filled "
                             f"{volume_of(r.filled_nl).display('mL')}"
                             + (" (volume mismatch)" if r.mismatch else ""), r.operator)
               for r in refills]
    for a in alarms:
        events.append(TimelineEvent(a.raised_at, "alarm", f"{a.kind} ({a.priority})", "pump"))
        if a.acknowledged_at is not None:
            events.append(TimelineEvent(a.acknowledged_at, "acknowledged", a.kind,
                                        a.acknowledged_by or "-"))
    events += [TimelineEvent(s.assessed_at, "side effects", s.note or "assessed",
                             s.assessed_by) for s in assessments]
    events += [TimelineEvent(at, "note", text, by) for at, text, by in notes]
    return tuple(sorted(events, key=lambda e: e.at, reverse=True))


def patient_page(db: Database, actor: Actor, patient_id: int, now: datetime) -> PatientPage:
    """The patient page's data at `now` (the record's clock)."""
    patient = get_patient(db, actor, patient_id)
    implants = implants_of(db, actor, patient_id)
    programs = [p for i in implants for p in programs_of(db, actor, patient_id, i.id)]
    programs.sort(key=lambda p: p.id)
    refills = refills_of(db, actor, patient_id)
    diary = diary_of(db, actor, patient_id)
    entries = [(e.felt_at, e.pain) for e in diary]
    assessments = assessments_of(db, actor, patient_id)
    alarms = alarms_of(db, actor, patient_id)
    pumps = tuple(_panel(db, actor, patient_id, i, programs, refills) for i in implants
                  if i.explanted_on is None)
    notes = [(e.felt_at, f"diary NRS {e.pain}: {e.note}", e.recorded_by) for e in diary
             if e.note]
    notes += [(r.at, f"reviewed{': ' + r.note if r.note else ''}", r.by)
              for r in reviews_of(db, actor, patient_id)]
    return PatientPage(
        patient, pumps, tuple(programs),
        charts.by_hour([e for e in entries if now - e[0] <= TYPICAL_DAY]),
        charts.by_week(entries), tuple((a, assessment_grades(a).grades) for a in assessments),
        tuple(alarms), tuple(recommendations_of(db, actor, patient_id)),
        _timeline(programs, refills, alarms, assessments, notes))
