"""The API's JSON: request and response models (pydantic), each field with its unit.

Quantities travel as `QuantityOut`: the exact value (a decimal or a fraction such as "1/3")
and its unit, plus the text a screen shows. Requests take quantities as text with their unit
("1 mg/day", "20 mL"), parsed by `idds.units` (a value without a unit is refused). Times are
ISO 8601 in UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from idds.units import Quantity, format_number, terminates

#: The largest row id a path takes (a 32-bit key: larger ones are refused as invalid).
MAX_ID = 2**31 - 1
PatientId = Annotated[int, Path(ge=1, le=MAX_ID, description="The patient's record id.")]
ImplantId = Annotated[int, Path(ge=1, le=MAX_ID, description="The implant's record id.")]
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="The row's record id.")]
Version = Annotated[int, Field(ge=1, le=MAX_ID, description="The version read (optimistic "
                                                             "concurrency).")]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
Text = Annotated[str, Field(max_length=2000)]
QuantityText = Annotated[str, Field(min_length=1, max_length=80,
                                    description='A quantity with its unit, "1 mg/day".')]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuantityOut(BaseModel):
    """An exact quantity: `value` in `unit` (a decimal, or a fraction "1/3"), `shown` as a
    screen shows it."""

    value: str
    unit: str
    shown: str

    @staticmethod
    def of(quantity: Quantity, unit: str | None = None) -> QuantityOut:
        q = quantity if unit is None else quantity.to(unit)
        exact = q.value_in(q.unit)
        value = format_number(exact) if terminates(exact.denominator) else str(exact)
        return QuantityOut(value=value, unit=q.unit.symbol, shown=q.display())


# -- sessions -------------------------------------------------------------------------------
class LoginIn(Strict):
    username: Annotated[str, Field(min_length=1, max_length=200)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class PasswordIn(Strict):
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class SessionOut(BaseModel):
    """Who is logged in. `token` only in the answer to the login itself (shown once)."""

    username: str
    role: str
    patient_id: int | None
    authenticated_at: datetime | None
    token: str | None = None
    expires_at: datetime | None = None


# -- patients and implants ------------------------------------------------------------------
class PatientIn(Strict):
    identifier: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    birth_date: date


class PatientChange(Strict):
    expected_version: Version
    reason: Reason
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    birth_date: date | None = None


class PatientOut(BaseModel):
    id: int
    identifier: str
    name: str
    birth_date: date
    created_at: datetime
    version: int


class ImplantIn(Strict):
    pump_serial: Annotated[str, Field(min_length=1, max_length=64,
                                      description="The pump's id on the link.")]
    pump_model: Annotated[str, Field(min_length=1, max_length=100)]
    catheter_model: Annotated[str, Field(min_length=1, max_length=100)]
    catheter_tip: Annotated[str, Field(min_length=1, max_length=40,
                                       description='The tip level, "T10".')]
    catheter_volume: QuantityText | None = None
    implanted_on: date


class ExplantIn(Strict):
    expected_version: Version
    explanted_on: date
    reason: Reason


class ImplantOut(BaseModel):
    id: int
    patient_id: int
    pump_serial: str
    pump_model: str
    catheter_model: str
    catheter_tip: str
    catheter_volume: QuantityOut | None
    implanted_on: date
    explanted_on: date | None
    version: int


# -- therapy programs -----------------------------------------------------------------------
class TherapyIn(Strict):
    """A therapy as entered (`idds.programmer.entry.TherapyFields`): dose per DAY."""

    mode: Annotated[str, Field(description="continuous or flex")] = "continuous"
    dose: QuantityText | None = None
    flex: Annotated[str | None, Field(max_length=600, description='"HH:MM=DOSE,..."')] = None
    bolus: QuantityText | None = None
    bolus_duration: QuantityText | None = None
    lockout: QuantityText | None = None
    max_boluses: Annotated[int | None, Field(ge=0, le=1000)] = None


class ProgramProposalIn(Strict):
    drug: Annotated[str, Field(min_length=1, max_length=64)]
    concentration: QuantityText
    therapy: TherapyIn
    override_reason: Annotated[str | None, Field(min_length=1, max_length=2000)] = None
    opioid_tolerant: bool = False


class RowOut(BaseModel):
    """One line of the Finish screen: the setting, the value in force, the value planned."""

    setting: str
    old: str
    new: str


class BreachOut(BaseModel):
    limit: str
    kind: str
    value: str
    bound: str
    source: str
    message: str


class ProposalOut(BaseModel):
    """A planned change, for its Finish screen; nothing has changed yet."""

    proposal_id: str
    expires_at: datetime
    replaces: int | None = None
    rows: list[RowOut]
    notes: list[str]
    warnings: list[str] = []
    breaches: list[BreachOut] = []
    needs_override_confirmation: bool = False
    needs_mismatch_acceptance: bool = False
    next_refill: date | None = None


class ConfirmProgramIn(Strict):
    reason: Reason
    override_confirmed: bool = Field(False, description="The soft-limit override confirmed a "
                                                        "second time on the Finish screen.")


class ProgramOut(BaseModel):
    id: int
    implant_id: int
    previous_id: int | None
    drug: str
    concentration: QuantityOut
    therapy: dict[str, object]
    daily_dose: QuantityOut | None
    library_version_id: int
    breaches: list[BreachOut]
    override_reason: str | None
    reason: str
    programmed_at: datetime
    programmed_by: str


class SentProgramOut(BaseModel):
    """A therapy sent, read back from the pump (the same therapy) and recorded."""

    program: ProgramOut
    read_back: str


# -- refills --------------------------------------------------------------------------------
class RefillProposalIn(Strict):
    withdrawn: QuantityText
    volume: QuantityText
    concentration: QuantityText
    drug: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    bridge: bool = True


class ConfirmRefillIn(Strict):
    lot: Annotated[str, Field(min_length=1, max_length=64)]
    accept_mismatch: bool = Field(False, description="Fill despite an expected-versus-"
                                                     "withdrawn mismatch.")


class RefillOut(BaseModel):
    id: int
    implant_id: int
    drug: str
    concentration: QuantityOut
    lot: str
    expected: QuantityOut
    withdrawn: QuantityOut
    filled: QuantityOut
    mismatch: bool
    next_refill_on: date | None
    refilled_at: datetime
    operator: str
