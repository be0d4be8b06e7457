"""How much does a virtual patient's pain vary within the waking day? (issue 20)

The intelligent controller scores a dose by the expected share of the waking day at NRS <= 3,
which needs the spread of one waking moment's pain around the day's mean
(`ResponseModel.waking_sd`). This script measures that spread on a trial's
`patient_days.csv`: per arm, on the days alive with a mean pain between NRS 2 and 4, it fits

    waking share at NRS <= 3  =  Phi((3 + offset - day mean NRS) / spread)

by least squares (offset: the waking day's mean above the whole day's), and prints the offset,
the spread and the share of days partly in target (between 5% and 95% of the waking day).

    idds trial --patients 400 --days 90 --arms it-standard,it-daily-target --seed 0 --out DIR
    .venv/bin/python examples/waking_spread.py DIR/patient_days.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares
from scipy.special import ndtr

Array = NDArray[np.float64]

#: The days fitted: mean NRS in [2, 4], where the waking share is neither all nor nothing.
FIT_NRS = (2.0, 4.0)
TARGET_NRS = 3.0


@dataclass(frozen=True)
class WakingSpread:
    """One arm's fit: offset and spread in NRS points; partial: share of the days alive with
    5-95% of the waking day in target; days: days alive; fitted: days in `FIT_NRS`."""

    arm: str
    offset_nrs: float
    spread_nrs: float
    partial: float
    days: int
    fitted: int


def fit(arm: str, day_mean_nrs: Array, waking_share: Array) -> WakingSpread:
    """The fit of the module docstring for one arm's days alive (arrays of equal length)."""
    sel = (day_mean_nrs >= FIT_NRS[0]) & (day_mean_nrs <= FIT_NRS[1])
    if sel.sum() < 3:
        raise ValueError(f"{arm}: fewer than 3 days with a mean NRS in {FIT_NRS}")
    mean, share = day_mean_nrs[sel], waking_share[sel]

    def residual(x: Array) -> Array:
        out: Array = ndtr((TARGET_NRS + x[0] - mean) / x[1]) - share
        return out

    result = least_squares(residual, [0.0, 0.5], bounds=([-2.0, 0.01], [2.0, 5.0]))
    partial = float(np.mean((waking_share > 0.05) & (waking_share < 0.95)))
    return WakingSpread(arm, float(result.x[0]), float(result.x[1]), partial,
                        len(waking_share), int(sel.sum()))


def read(path: Path) -> dict[str, tuple[Array, Array]]:
    """Per arm, the days alive of a `patient_days.csv`: (mean NRS, waking share in target)."""
    rows: dict[str, tuple[list[float], list[float]]] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["alive"] == "1":
                mean, share = rows.setdefault(row["arm"], ([], []))
                mean.append(float(row["pain_mean"]))
                share.append(float(row["waking_controlled_fraction"]))
    return {arm: (np.asarray(m), np.asarray(s)) for arm, (m, s) in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patient_days", type=Path, help="a trial's patient_days.csv")
    path = parser.parse_args().patient_days
    if not path.is_file():
        print(f"waking_spread: no such file: {path}", file=sys.stderr)
        sys.exit(2)
    for arm, (mean, share) in read(path).items():
        try:
            r = fit(arm, mean, share)
        except ValueError as exc:  # an arm whose days are all far from the target
            print(f"{exc}: not fitted")
            continue
        print(f"{r.arm}: spread {r.spread_nrs:.2f} NRS, offset {r.offset_nrs:+.2f} NRS, "
              f"{100 * r.partial:.1f}% of {r.days} days partly in target "
              f"({r.fitted} days fitted)")


if __name__ == "__main__":
    main()
