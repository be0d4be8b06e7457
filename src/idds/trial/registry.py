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

ARMS: dict[str, Arm] = {
    arm.name: arm
    for arm in (
        ComprehensiveMedicalManagement(),
        StandardIntrathecal(),
        IntelligentArm(),
        OracleArm(),
        RuleBasedArm(),
        DailyTargetArm(),
    )
}


def arm(name: str) -> Arm:
    """The arm called `name`: one of `ARMS`, or `controller:SPEC` for a plug-in controller
    (loaded and checked here, so a bad spec is refused before anything runs)."""
    if name in ARMS:
        return ARMS[name]
    if name.startswith(PLUGIN_PREFIX):
        require(name.removeprefix(PLUGIN_PREFIX))
        return PluginArm(name=name)
    raise KeyError(name)
