"""The controller registry: a named controller built from the clinician's bounds and the drug
library, one way for every caller (the trial's closed-loop arms and the advisory mode).

`build_controller(name, settings)` gives every controller what it needs from the same places:
- the per-change step (`max_increase_per_day`, a fraction per day): the clinician's, reduced to
  the library's `max_increase_fraction` unless the clinician allows that soft limit
  (`idds.control.bounds.per_change_step`, the supervisor's own rule);
- the oral:IT conversion ratio (oral morphine mg per intrathecal mg) from the drug library's
  conversion factors (`oral_to_it_ratio`), never a constructor's default;
- the clinician's bolus bounds, lowest daily dose and lowest deliverable rate.
The evaluation-only oracle controller reads the virtual patients' hidden state and is built by
its trial arm (`idds.trial.controlled_arms.OracleArm`), not here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from idds.control.bounds import ClinicianBounds, LibraryLimits, per_change_step
from idds.control.controller import Controller
from idds.control.intelligent import LADDER_ORAL_PER_IT_MG, IntelligentController
from idds.control.plugins import build_plugin, entry_point_names, is_plugin, load_factory
from idds.control.rules import PRACTICE, RuleBasedController
from idds.drugs import DrugEntry, Route
from idds.errors import IddsError

Array = NDArray[np.float64]


@dataclass(frozen=True)
class ControllerSettings:
    """What a controller is built from: the clinician's bounds, the library's limits for the
    pump drug, and the oral:IT ratio (`settings_for` reads both from a library entry)."""

    bounds: ClinicianBounds
    library: LibraryLimits
    #: Oral mg per intrathecal mg, from the drug library's conversion policy: the entry's
    #: conversion factors (`oral_to_it_ratio`).
    oral_to_it_ratio: float


class UnknownController(IddsError):
    """A controller name the registry does not know; the message names the choices."""

    def __init__(self, name: str) -> None:
        self.name = name
        installed = ", ".join(entry_point_names()) or "none installed"
        super().__init__(f"unknown controller {name!r}; choose one of: {', '.join(CONTROLLERS)}, "
                         f"an installed plug-in ({installed}), or module:factory or "
                         "path/to/file.py:factory")


def oral_to_it_ratio(drug: DrugEntry) -> float:
    """Oral morphine mg equivalent to 1 mg of `drug` intrathecal, from the library entry's
    `oral_morphine_mg_per_mg` factors (intrathecal / oral; the classic ladder 300:1 for
    morphine, Krames). An entry without factors gets `LADDER_ORAL_PER_IT_MG` (300, the
    reference library's value). This is the ratio for estimating the IT-equivalent of oral
    morphine; the starting dose uses the library's conservative start ratio instead
    (`ConversionPolicy.start_ratio_oral_to_intrathecal`, near 100:1)."""
    table = drug.oral_morphine_mg_per_mg
    if table is None:
        return LADDER_ORAL_PER_IT_MG
    return float(table[Route.INTRATHECAL] / table[Route.ORAL])


def settings_for(drug: DrugEntry, bounds: ClinicianBounds) -> ControllerSettings:
    """Settings for the library entry of the pump drug and the clinician's bounds."""
    return ControllerSettings(bounds=bounds, library=LibraryLimits.from_drug(drug),
                              oral_to_it_ratio=oral_to_it_ratio(drug))


def _intelligent(settings: ControllerSettings, step: float,
                 prior_oral_mg_per_day: Array | None) -> Controller[Any]:
    bounds = settings.bounds
    return IntelligentController(
        max_increase_per_day=step,
        oral_per_it_mg=settings.oral_to_it_ratio,
        prior_oral_mg_per_day=prior_oral_mg_per_day,
        max_bolus_mg=bounds.max_bolus_mg,
        max_boluses_per_day=bounds.max_boluses_per_day,
        min_daily_mg=bounds.min_daily_mg,
        min_rate_mg_per_day=bounds.min_rate_mg_per_day,
    )


def _rule_based(settings: ControllerSettings, step: float,
                prior_oral_mg_per_day: Array | None) -> Controller[Any]:
    return RuleBasedController(titration=replace(PRACTICE, increase=step),
                               min_daily_mg=settings.bounds.min_daily_mg)


Factory = Callable[[ControllerSettings, float, "Array | None"], Controller[Any]]
#: Each controller a clinician may choose (advisory mode) and the trial's arms build, by name.
FACTORIES: dict[str, Factory] = {"intelligent": _intelligent, "rule-based": _rule_based}
CONTROLLERS: tuple[str, ...] = tuple(FACTORIES)


def factory(name: str) -> Factory:
    """The factory of a built-in controller (`CONTROLLERS`) or of a plug-in
    (`idds.control.plugins`: module:factory, file.py:factory or an installed entry point);
    `UnknownController` or `PluginError` otherwise."""
    if name in FACTORIES:
        return FACTORIES[name]
    if is_plugin(name) or name in entry_point_names():
        loaded: Factory = load_factory(name)
        return loaded
    raise UnknownController(name)


def require(name: str) -> None:
    """Refuse a name that is neither one of `CONTROLLERS` nor a loadable plug-in."""
    factory(name)


def build_controller(name: str, settings: ControllerSettings, *,
                     prior_oral_mg_per_day: Array | None = None) -> Controller[Any]:
    """The controller called `name` (one of `CONTROLLERS`, or a plug-in), configured from
    `settings` with the per-change step of `per_change_step`. `prior_oral_mg_per_day`: each
    patient's oral morphine before the implant, mg/day, where known (the intelligent
    controller takes the pain on it as a first observation). Raises `UnknownController` or
    `PluginError` for any other name."""
    build = factory(name)
    step = per_change_step(settings.bounds, settings.library)
    if name in FACTORIES:
        return build(settings, step, prior_oral_mg_per_day)
    return build_plugin(build, name, settings, step, prior_oral_mg_per_day)
