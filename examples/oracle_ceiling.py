"""How much time in target is there to win under the safety supervisor? (issue 20)

The `oracle` arm knows each virtual patient's hidden physiology and aims at a predicted mean
pain of NRS 3 (`idds.control.oracle`). Time in target counts the waking time at NRS <= 3, so a
controller that knew the patient and aimed lower, or spent its drug where it relieves most,
might do better. This script runs, on the same patients and each behind the same supervisor
and bounds as the real controllers, beside `it-standard` and `it-daily-target`:
- the oracle aiming at a mean NRS of 2.5, 2, 1.5 and 1 (`oracle-nrs-T`);
- the daily clinician treating to a diary mean of 2.5 and 2 (`it-daily-target-nrs-T`);
- the lean oracle (`LeanOracle`: less drug where the target cannot be reached);
- oracles dosing by marginal relief at 0.1, 0.2 and 0.4 NRS per mg/day (`MarginalOracle`);
and prints each arm's time in target, time controlled, intrathecal dose, OME per NRS point of
relief and respiratory depression. The best of the oracles is a lower bound on what knowing
the patient can buy under these limits (docs/control.md, "The room under the supervisor").

    .venv/bin/python examples/oracle_ceiling.py --seed 0 [--patients 400 --days 90]

Evaluation only: the oracles read the hidden cohort, as `oracle` does.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from idds.control.bounds import ClinicianBounds
from idds.control.controller import Controller
from idds.control.oracle import CANDIDATES_MG, OracleController
from idds.control.target import DailyTargetController
from idds.trial.arms import ArmContext
from idds.trial.controlled_arms import DailyTargetArm, OracleArm
from idds.trial.registry import ARMS
from idds.trial.runner import LocalExecutor, TrialConfig, run_trial

#: Mean-pain targets of the oracles, NRS (3.0 is the built-in `oracle`).
TARGETS = (2.5, 2.0, 1.5, 1.0)
Array = NDArray[np.float64]
METRICS = ("time_in_target_percent", "time_controlled_percent", "it_mg_per_day",
           "ome_mg_per_nrs_point_relief", "respiratory_events_per_100_patient_days")


@dataclass(frozen=True)
class LeanOracle(OracleController):
    """The oracle, except where no safe dose meets the target: there, rather than the largest
    safe dose, the smallest dose predicted within `lean_nrs` of the lowest pain any safe dose
    reaches (the drug beyond it buys less than that)."""

    lean_nrs: float = 0.25

    def best_dose(self, day: float) -> Array:
        pred, safe = self.safe_prediction(day)
        pain = np.where(safe, pred.pain_nrs, np.inf)
        floor = pain.min(axis=0)
        enough = pain <= np.where(floor <= self.target_nrs, self.target_nrs,
                                  floor + self.lean_nrs)
        pick = np.where(np.isfinite(floor), np.argmax(enough, axis=0), 0)
        out: Array = np.maximum(CANDIDATES_MG[pick], self.min_daily_mg)
        return out


@dataclass(frozen=True)
class MarginalOracle(OracleController):
    """Dose by equal marginal relief: per patient the safe candidate dose that maximises the
    predicted fall in pain minus `nrs_per_mg` x the dose (mg/day), whatever the pain left."""

    nrs_per_mg: float = 0.3

    def best_dose(self, day: float) -> Array:
        pred, safe = self.safe_prediction(day)
        score = np.where(safe, -pred.pain_nrs - self.nrs_per_mg * CANDIDATES_MG[:, None],
                         -np.inf)
        out: Array = np.maximum(CANDIDATES_MG[np.argmax(score, axis=0)], self.min_daily_mg)
        return out


@dataclass(frozen=True)
class TargetOracleArm(OracleArm):
    """The `oracle` arm aiming at another predicted mean pain (NRS); `lean`: `LeanOracle`."""

    target_nrs: float = 3.0
    lean: bool = False
    nrs_per_mg: float | None = None

    def controller(self, context: ArmContext, bounds: ClinicianBounds) -> Controller[Any]:
        base = super().controller(context, bounds)
        assert isinstance(base, OracleController)
        values = {f.name: getattr(base, f.name) for f in fields(OracleController)}
        values["target_nrs"] = self.target_nrs
        if self.nrs_per_mg is not None:
            return MarginalOracle(**values, nrs_per_mg=self.nrs_per_mg)
        return (LeanOracle if self.lean else OracleController)(**values)


@dataclass(frozen=True)
class TargetDailyArm(DailyTargetArm):
    """The `it-daily-target` clinician treating to another diary mean (NRS)."""

    target_nrs: float = 3.0

    def controller(self, context: ArmContext, bounds: ClinicianBounds) -> Controller[Any]:
        base = super().controller(context, bounds)
        assert isinstance(base, DailyTargetController)
        return replace(base, titration=replace(base.titration, target_nrs=self.target_nrs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--patients", type=int, default=400)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    extra: list[OracleArm | DailyTargetArm] = [
        *(TargetOracleArm(name=f"oracle-nrs-{t:g}", target_nrs=t) for t in TARGETS),
        *(TargetDailyArm(name=f"it-daily-target-nrs-{t:g}", target_nrs=t) for t in (2.5, 2.0)),
        *(TargetOracleArm(name=f"oracle-lean-nrs-{t:g}", target_nrs=t, lean=True)
          for t in (3.0, 2.5)),
        *(TargetOracleArm(name=f"oracle-marginal-{p:g}", nrs_per_mg=p) for p in (0.1, 0.2, 0.4)),
    ]
    for arm in extra:
        ARMS[arm.name] = arm  # this process and its forked workers only
    names = ["it-standard", "it-daily-target", "oracle", *(arm.name for arm in extra)]
    config = TrialConfig(patients=args.patients, days=args.days, arms=tuple(names),
                         seed=args.seed, batch_size=200)
    result = run_trial(config, LocalExecutor(workers=args.workers))
    print("arm | " + " | ".join(METRICS))
    for name in names:
        metrics = result.arms[name].metrics
        print(name + " | " + " | ".join(f"{metrics[m].mean:.3f}" for m in METRICS))


if __name__ == "__main__":
    main()
