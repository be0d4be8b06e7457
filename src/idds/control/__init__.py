"""Dose control: pure decisions from observations, and the safety supervisor.

Controllers (`RuleBasedController`, `IntelligentController`, evaluation-only
`OracleController`) map (state, observations, therapy) to (recommendation, state), with a
`Reason` per patient (`idds.control.reasons`); `idds.control.registry` builds them by name from
the clinician's bounds and the drug library. The supervisor (`supervise`, its named stages in
`idds.control.stages`, its `Check` flags and their words in `idds.control.checks`) decides
what is delivered; `closed_loop_step` composes them; `advise` / `accept` / `reject` are the
advisory mode's pure pieces.
"""

from idds.control.observations import Observations

__all__ = ["Observations"]
