"""Dose control: pure decisions from observations, and the safety supervisor.

Controllers (`RuleBasedController`, `IntelligentController`, evaluation-only
`OracleController`) map (state, observations, therapy) to (recommendation, state); the
supervisor (`supervise`) decides what is delivered; `closed_loop_step` composes them;
`advise` / `accept` / `reject` are the advisory mode's pure pieces.
"""

from idds.control.observations import Observations

__all__ = ["Observations"]
