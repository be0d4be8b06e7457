"""Scenario fixtures (tests/fixtures/selection/*.toml): the base patient, changed as each
fixture says, and the verdict (or refusal) the fixture expects."""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "selection"
BASE = FIXTURES / "base-patient.toml"


@dataclass(frozen=True)
class Scenario:
    name: str
    patient: dict[str, Any]
    outcome: str | None
    deciding: tuple[str, ...]
    refused: str | None


def base_patient() -> dict[str, Any]:
    return tomllib.loads(BASE.read_text())


def load_scenario(path: Path) -> Scenario:
    raw = tomllib.loads(path.read_text())
    assert set(raw) <= {"expect", "set", "change"}, path
    patient = base_patient()
    for section, values in raw.get("set", {}).items():
        patient.setdefault(section, {}).update(copy.deepcopy(values))
    for dotted in raw.get("change", {}).get("remove", []):
        section, _, key = dotted.partition(".")
        if key:
            del patient[section][key]
        else:
            del patient[section]
    expect = raw["expect"]
    return Scenario(path.stem, patient, expect.get("outcome"), tuple(expect.get("deciding", ())),
                    expect.get("refused"))


def scenarios() -> list[Scenario]:
    return [load_scenario(p) for p in sorted(FIXTURES.glob("*.toml")) if p != BASE]
