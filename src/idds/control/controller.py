"""The controller interface: one pure entry point per controller (after LoopAlgorithm).

A controller is an immutable configuration with two pure methods: `initial` builds its carried
state for patients on a therapy, `recommend` takes that state, the day's `Observations` and the
current `Prescription` and returns a `Recommendation` and the new state. No clock, I/O or globals;
arrays over n patients (n = 1 for the programmer).
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from idds.control.observations import Observations
from idds.control.prescription import Prescription
from idds.control.recommendation import Recommendation

S = TypeVar("S")


class Controller(Protocol[S]):
    """A dose controller carrying its own estimate state of type S."""

    @property
    def name(self) -> str: ...

    def initial(self, therapy: Prescription) -> S: ...

    def recommend(self, state: S, obs: Observations, therapy: Prescription
                  ) -> tuple[Recommendation, S]: ...
