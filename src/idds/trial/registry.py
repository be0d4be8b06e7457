"""The named arms a trial can run (`idds trial --arms ...`)."""

from __future__ import annotations

from idds.trial.arms import Arm, ComprehensiveMedicalManagement, StandardIntrathecal
from idds.trial.controlled_arms import IntelligentArm, OracleArm, RuleBasedArm

ARMS: dict[str, Arm] = {
    arm.name: arm
    for arm in (
        ComprehensiveMedicalManagement(),
        StandardIntrathecal(),
        IntelligentArm(),
        OracleArm(),
        RuleBasedArm(),
    )
}
