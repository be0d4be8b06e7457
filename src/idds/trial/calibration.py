"""How honest a controller's forecasts were: an estimating controller predicts, on an evening,
tomorrow's diary mean on the plan it delivers (`idds.control.beliefs.Forecast`: a mean and an
80% predictive interval) and the share of the waking day with pain at or below target; the
next day's diary says what happened.

The forecast is made on every `CHECK_EVERY_DAYS`-th evening (its posterior mixture quantiles
cost about as much as a day of the controller itself: a sample of days measures the same
honesty at a seventh of the cost). `Calibration` sums, over every patient-day with a forecast
and a diary entry the next day:
the forecasts, how many diary means fell inside the 80% interval (coverage: about 80% if the
interval is honest, less if it is overconfident), the error of the mean forecast (bias and
root mean square, NRS) and the predicted and observed waking share at or below target (the
observed share is of perceived pain, the trial's `waking_controlled_fraction`); and of the
side-effect forecast, how many reported burdens fell inside its 80% interval and the predicted
and observed share of days a side effect limited (burden at or above
`idds.control.sideeffects.LIMITING_BURDEN`). Sums, so runs of batches and parts of a cohort add
up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from idds.control.beliefs import FORECAST_LEVEL, Beliefs, ForecastArrays
from idds.control.sideeffects import LIMITING_BURDEN

Array = NDArray[np.float64]

#: Days between two forecasts checked (on days 7, 14, ...: the evenings of days 6, 13, ...).
CHECK_EVERY_DAYS = 7


def checked_today(day: int) -> bool:
    """Whether the evening of `day` makes a forecast to check tomorrow."""
    return day % CHECK_EVERY_DAYS == CHECK_EVERY_DAYS - 1


@dataclass(frozen=True)
class ControllerCheck:
    """What an estimating controller said on a check evening (`checked_today`): the day, its
    forecast of tomorrow's diary on the plan it delivered, and its beliefs about each patient
    (`idds.control.beliefs`), in the run's patient order."""

    day: int
    forecast: ForecastArrays
    beliefs: tuple[Beliefs, ...]


@dataclass(frozen=True)
class Calibration:
    """Sums over forecast patient-days (see the module docstring), and per patient of the run
    (in its order) the day and beliefs of the last check (None: no check yet)."""

    forecasts: int = 0
    inside: int = 0
    error_sum: float = 0.0
    error_sq_sum: float = 0.0
    in_target_predicted_sum: float = 0.0
    in_target_observed_sum: float = 0.0
    burden_inside: int = 0
    limiting_predicted_sum: float = 0.0
    limiting_observed: int = 0
    believed: tuple[tuple[int, Beliefs] | None, ...] = ()

    @staticmethod
    def start(n: int) -> Calibration:
        """Nothing checked yet, for a run of n patients."""
        return Calibration(believed=(None,) * n)

    def add(self, check: ControllerCheck | None, row: dict[str, Array],
            alive: NDArray[np.bool_]) -> Calibration:
        """Add yesterday's `check` (None: none): its forecast checked against today's closed
        day `row` for the patients alive with a diary entry today, its beliefs kept."""
        if check is None:
            return self
        forecast = check.forecast
        count = row["diary_count"]
        seen = alive & (count > 0)
        diary = row["diary_sum"][seen] / count[seen]
        error = forecast.nrs[seen] - diary
        inside = (diary >= forecast.nrs_low[seen]) & (diary <= forecast.nrs_high[seen])
        burden = row["side_effect_burden"][seen]
        burden_inside = ((burden >= forecast.burden_low[seen])
                         & (burden <= forecast.burden_high[seen]))
        day = Calibration(
            forecasts=int(seen.sum()),
            inside=int(inside.sum()),
            error_sum=float(error.sum()),
            error_sq_sum=float((error * error).sum()),
            in_target_predicted_sum=float(forecast.in_target[seen].sum()),
            in_target_observed_sum=float(row["waking_controlled_fraction"][seen].sum()),
            burden_inside=int(burden_inside.sum()),
            limiting_predicted_sum=float(forecast.limiting[seen].sum()),
            limiting_observed=int((burden >= LIMITING_BURDEN).sum()),
        )
        return replace(self + day, believed=tuple((check.day, b) for b in check.beliefs))

    def __add__(self, other: Calibration) -> Calibration:
        """Two parts of a cohort: the sums added, `other`'s patients after this one's."""
        sums = {f: getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__}
        return Calibration(**sums)

    def take(self, order: NDArray[np.intp]) -> Calibration:
        """The same sums, the patients' beliefs in `order` (positions into this one's)."""
        return replace(self, believed=tuple(self.believed[i] for i in order))

    def summary(self) -> dict[str, float | int] | None:
        """Coverage of the interval (0-1), bias and RMSE of the mean (NRS), mean predicted and
        observed waking share at target (0-1), the side-effect interval's coverage and the
        predicted and observed share of days a side effect limited (0-1); None without
        forecasts."""
        n = self.forecasts
        if n == 0:
            return None
        return {
            "forecast_patient_days": n,
            "interval_level": FORECAST_LEVEL,
            "coverage": self.inside / n,
            "bias_nrs": self.error_sum / n,
            "rmse_nrs": float(np.sqrt(self.error_sq_sum / n)),
            "in_target_predicted": self.in_target_predicted_sum / n,
            "in_target_observed": self.in_target_observed_sum / n,
            "burden_coverage": self.burden_inside / n,
            "limiting_predicted": self.limiting_predicted_sum / n,
            "limiting_observed": self.limiting_observed / n,
        }

    @staticmethod
    def total(parts: list[Calibration]) -> Calibration:
        out = Calibration()
        for part in parts:
            out = out + part
        return out
