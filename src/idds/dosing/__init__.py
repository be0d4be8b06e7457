"""Clinician calculators on top of units and the drug library: route conversion, pump arithmetic."""

from idds.dosing.conversion import ConversionResult, convert
from idds.dosing.pump_math import (
    PROMETRA_CATHETER_FULL_LENGTH_CM,
    PROMETRA_CATHETER_ML_PER_CM,
    RefillDue,
    RefillPlan,
    catheter_volume,
    dose_from_rate,
    plan_refill,
    rate_from_dose,
    refill_due,
    refill_due_for,
    time_to_alarm,
)

__all__ = [
    "PROMETRA_CATHETER_FULL_LENGTH_CM",
    "PROMETRA_CATHETER_ML_PER_CM",
    "ConversionResult",
    "RefillDue",
    "RefillPlan",
    "catheter_volume",
    "convert",
    "dose_from_rate",
    "plan_refill",
    "rate_from_dose",
    "refill_due",
    "refill_due_for",
    "time_to_alarm",
]
