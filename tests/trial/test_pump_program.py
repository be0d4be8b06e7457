"""The one conversion from the control layer's `Prescription` to the pump twin's program."""

from __future__ import annotations

import numpy as np

from idds.control.prescription import HOURS, Prescription
from idds.pump.twin import HOURS as TWIN_HOURS
from idds.pump.twin import TwinProgram


def test_prescription_gives_the_twin_its_own_arrays() -> None:
    flex = np.ones((2, HOURS))
    flex[1, :12], flex[1, 12:] = 0.5, 1.5
    rx = Prescription(
        oral_mg_per_day=np.array([10.0, 0.0]), oral_rescue_mg=np.zeros(2),
        it_mg_per_day=np.array([0.0, 1.5]), flex=flex, bolus_mg=np.array([0.0, 0.1]),
        lockout_min=np.array([60.0, 120.0]), max_boluses_per_day=np.array([0, 4]),
    )
    program = rx.pump_program()
    assert isinstance(program, TwinProgram) and HOURS == TWIN_HOURS
    assert program.basal_mg_per_day is rx.it_mg_per_day and program.flex is rx.flex
    assert program.bolus_mg is rx.bolus_mg and program.lockout_min is rx.lockout_min
    assert program.max_per_24h is rx.max_boluses_per_day
    assert np.array_equal(program.daily_mg(), rx.daily_it_mg())
