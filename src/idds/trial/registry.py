"""The named arms a trial can run (`idds trial --arms ...`)."""

from __future__ import annotations

from idds.control.registry import require
from idds.trial.arms import Arm, ComprehensiveMedicalManagement, StandardIntrathecal
from idds.trial.controlled_arms import (
    PLUGIN_PREFIX,
    DailyTargetArm,
    IntelligentArm,
    OracleArm,
    PluginArm,
    RuleBasedArm,
)
from idds.trial.screened import SCREENED_SUFFIX, ScreenedArm, screened

ARMS: dict[str, Arm | ScreenedArm] = {
    arm.name: arm
    for arm in (
        ComprehensiveMedicalManagement(),
        StandardIntrathecal(),
        IntelligentArm(),
        OracleArm(),
        RuleBasedArm(),
        DailyTargetArm(),
        screened(StandardIntrathecal(), "it-screened"),
    )
}


def arm(name: str) -> Arm | ScreenedArm:
    """The arm called `name`: one of `ARMS`, `controller:SPEC` for a plug-in controller
    (loaded and checked here, so a bad spec is refused before anything runs), or an IT arm
    with `+screened` (from referral: `idds.trial.screened`). KeyError: no such arm;
    ValueError: `+screened` on an arm without a pump."""
    if name in ARMS:
        return ARMS[name]
    if name.endswith(SCREENED_SUFFIX):
        inner = arm(name.removesuffix(SCREENED_SUFFIX))
        if isinstance(inner, ScreenedArm) or not inner.uses_pump:
            raise ValueError(f"{name}: {SCREENED_SUFFIX} goes on an intrathecal arm (one "
                             "with a pump) that is not screened already")
        return screened(inner)
    if name.startswith(PLUGIN_PREFIX):
        require(name.removeprefix(PLUGIN_PREFIX))
        return PluginArm(name=name)
    raise KeyError(name)
