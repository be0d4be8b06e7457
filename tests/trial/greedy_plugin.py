"""Test plug-ins: a greedy controller that asks for ten times the dose every day, and broken
ones (a factory that raises, an object that is not a controller, a recommend that raises)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from idds.control.prescription import Prescription
from idds.control.reasons import Reason
from idds.control.recommendation import Recommendation


@dataclass(frozen=True)
class Greedy:
    name: str = "greedy"

    def initial(self, therapy: Prescription) -> None:
        return None

    def recommend(self, state: None, obs: Any, therapy: Prescription
                  ) -> tuple[Recommendation, None]:
        more = therapy.with_(it_mg_per_day=therapy.it_mg_per_day * 10)
        reasons = np.full(therapy.n, Reason.INCREASE_UNCONTROLLED, dtype=np.int64)
        return Recommendation(more, reasons, np.full(therapy.n, np.nan)), None


class Crashing(Greedy):
    def recommend(self, state: None, obs: Any, therapy: Prescription
                  ) -> tuple[Recommendation, None]:
        raise ZeroDivisionError("on purpose")


def greedy(*_: object) -> Greedy:
    return Greedy()


def crashing(*_: object) -> Crashing:
    return Crashing()


def raising(*_: object) -> Greedy:
    raise RuntimeError("no settings for me")


def not_a_controller(*_: object) -> str:
    return "hello"
