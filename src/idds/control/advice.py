"""Advisory mode: the recommendation, its reasons and predicted effect go to a clinician, who
accepts or rejects it. Pure records only (the programmer shows them and sends what is
accepted; that integration comes later).

`advise` turns a controller's recommendation and the supervisor's decision for one patient
into an `Advice` (what is proposed, why, what the supervisor allowed, the predicted pain);
`accept` / `reject` record the clinician's decision as a `ClinicianDecision` carrying the
therapy to program (the supervised one on acceptance, the current one on rejection). The
clinician and the time are given by the caller (no clock inside).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from idds.control.prescription import Prescription
from idds.control.reasons import Reason
from idds.control.recommendation import Recommendation
from idds.control.supervisor import SupervisorDecision, Verdict, describe
from idds.errors import IddsError


class AdviceError(IddsError):
    """An advice was decided twice, or without the fields a decision needs."""


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Setting:
    """One patient's intrathecal program: daily dose mg/day, flex (24 multipliers), bolus mg,
    lockout min, boluses per 24 h."""

    daily_mg: float
    flex: tuple[float, ...]
    bolus_mg: float
    lockout_min: float
    max_boluses_per_day: int

    @staticmethod
    def of(therapy: Prescription, i: int) -> Setting:
        return Setting(
            daily_mg=float(therapy.it_mg_per_day[i]),
            flex=tuple(float(x) for x in therapy.flex[i]),
            bolus_mg=float(therapy.bolus_mg[i]),
            lockout_min=float(therapy.lockout_min[i]),
            max_boluses_per_day=int(therapy.max_boluses_per_day[i]),
        )


@dataclass(frozen=True)
class Advice:
    """What the clinician sees for one patient.

    current: the program now; recommended: the controller's; allowed: what the supervisor lets
    through (what acceptance programs); reason and reason_text: the controller's; verdict and
    limits: the supervisor's, with a text per limit applied; predicted_nrs: the controller's
    predicted diary pain at the recommendation (None: no prediction).
    """

    patient: int
    day: int
    current: Setting
    recommended: Setting
    allowed: Setting
    reason: Reason
    reason_text: str
    verdict: Verdict
    limits: tuple[str, ...]
    predicted_nrs: float | None


@dataclass(frozen=True)
class ClinicianDecision:
    """The clinician's answer to an advice: outcome, who, when (ISO text from the caller), a
    note (required on rejection), and the setting to program."""

    advice: Advice
    outcome: Outcome
    clinician: str
    at: str
    note: str
    program: Setting


def advise(rec: Recommendation, decision: SupervisorDecision, current: Prescription, i: int,
           day: int) -> Advice:
    """The advice for patient i from a recommendation and the supervisor's decision on it."""
    predicted = float(rec.predicted_nrs[i])
    return Advice(
        patient=i,
        day=day,
        current=Setting.of(current, i),
        recommended=Setting.of(rec.therapy, i),
        allowed=Setting.of(decision.therapy, i),
        reason=Reason(int(rec.reasons[i])),
        reason_text=rec.text(i),
        verdict=Verdict(int(decision.verdict[i])),
        limits=tuple(describe(int(decision.checks[i]))),
        predicted_nrs=None if np.isnan(predicted) else predicted,
    )


def _who(clinician: str, at: str) -> None:
    if not clinician.strip() or not at.strip():
        raise AdviceError("a decision needs the clinician and the time")


def accept(advice: Advice, clinician: str, at: str, note: str = "") -> ClinicianDecision:
    """Accept: program what the supervisor allowed (never more than that)."""
    _who(clinician, at)
    return ClinicianDecision(advice, Outcome.ACCEPTED, clinician, at, note, advice.allowed)


def reject(advice: Advice, clinician: str, at: str, note: str) -> ClinicianDecision:
    """Reject with a reason: the current program stays."""
    _who(clinician, at)
    if not note.strip():
        raise AdviceError("a rejection needs a reason")
    return ClinicianDecision(advice, Outcome.REJECTED, clinician, at, note, advice.current)
