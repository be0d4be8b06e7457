"""The drug library: what may be put in an intrathecal pump, at what strength and dose.

The data is an editable, signed TOML file (`idds/drugs/data/library.toml` is the reference; a
hospital points IDDS_LIBRARY at its own). Loading parses every quantity through the unit
allow-list, checks each limit has the right dimension, and verifies the signature first: an
unsigned, tampered or untrusted library is refused (trust: `idds.drugs.truststore`), and
`LibraryHolder` keeps the previously loaded one in force. A library's version never goes back
(`idds.drugs.rollback`): `load_library(..., record=...)` refuses a library older than the
newest recorded, and `LibraryHolder.replace` one older than the library in force.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from idds.drugs.rollback import RollbackError, VersionRecord, check_not_older, parse_version
from idds.drugs.signing import verify_file
from idds.drugs.truststore import TrustStore
from idds.errors import IddsError
from idds.units import Kind, Quantity, UnitError, exact, parse_quantity

LIBRARY_ENV = "IDDS_LIBRARY"


class LibraryError(IddsError):
    """The library file is malformed, or a drug asked for is not in it."""


class LimitKind(StrEnum):
    """Hard limits block an entry; soft limits need an explicit override with a reason."""

    HARD = "hard"
    SOFT = "soft"


class Route(StrEnum):
    ORAL = "oral"
    IV = "iv"
    EPIDURAL = "epidural"
    INTRATHECAL = "intrathecal"


def _quantity(value: object) -> Quantity:
    if isinstance(value, Quantity):
        return value
    if not isinstance(value, str):
        raise ValueError('write a quantity as a string with its unit, like "0.5 mg"')
    try:
        return parse_quantity(value)
    except UnitError as exc:
        raise ValueError(str(exc)) from exc


def _fraction(value: object) -> Fraction:
    if isinstance(value, int | str | Fraction) and not isinstance(value, bool):
        try:
            return exact(value)
        except UnitError as exc:
            raise ValueError(str(exc)) from exc
    raise ValueError("write a ratio as a string or whole number, like \"300\"")


QuantityField = Annotated[Quantity, BeforeValidator(_quantity)]
FractionField = Annotated[Fraction, BeforeValidator(_fraction)]

_FROZEN = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class DrugLimit(BaseModel):
    """One limit: a quantity, hard or soft, and where it comes from."""

    model_config = _FROZEN
    value: QuantityField
    kind: LimitKind
    source: str


class PercentLimit(BaseModel):
    """A limit on a relative change, in whole percent."""

    model_config = _FROZEN
    value: int
    kind: LimitKind
    source: str


class DoseRange(BaseModel):
    """A recommended range of daily doses (low <= high)."""

    model_config = _FROZEN
    low: QuantityField
    high: QuantityField
    kind: LimitKind
    source: str

    @model_validator(mode="after")
    def _ordered(self) -> DoseRange:
        for end in (self.low, self.high):
            if end.dimension != Kind.DOSE_RATE.value:
                raise ValueError(f"{end} is not a daily dose (like \"0.5 mg/day\")")
        if self.low > self.high:
            raise ValueError(f"range low {self.low} is above high {self.high}")
        return self


#: The dimension each quantity limit of a drug must have.
_LIMIT_KINDS: dict[str, Kind] = {
    "concentration_max": Kind.CONCENTRATION,
    "max_daily_dose": Kind.DOSE_RATE,
    "max_bolus": Kind.MASS,
    "hard_max_daily_dose": Kind.DOSE_RATE,
    "hard_max_bolus": Kind.MASS,
    "max_increase": Kind.DOSE_RATE,
    "min_interval_between_increases": Kind.TIME,
    "max_refill_interval": Kind.TIME,
}


class DrugEntry(BaseModel):
    """One drug's entry. Quantities keep the units they were written in.

    `hard_max_daily_dose` (basal plus every allowed patient bolus, per day) and
    `hard_max_bolus` are required for every drug and must be hard: no override reason, no key
    and no programmer can talk past them (issue 13). `max_daily_dose` and `max_bolus` are the
    optional usual maxima beside them (soft where the reference gives a softer figure)."""

    model_config = _FROZEN
    name: str
    drug_class: str
    display_unit: str
    concentration_max: DrugLimit
    start_daily_dose: DoseRange
    start_daily_dose_tolerant: DoseRange | None = None
    max_daily_dose: DrugLimit | None = None
    max_bolus: DrugLimit | None = None
    hard_max_daily_dose: DrugLimit
    hard_max_bolus: DrugLimit
    max_increase_percent: PercentLimit | None = None
    max_increase: DrugLimit | None = None
    min_interval_between_increases: DrugLimit | None = None
    #: Longest time between refills: the drug's stability in the reservoir (the refill
    #: calculators date the refill by it when it comes before the low-reservoir alarm).
    max_refill_interval: DrugLimit | None = None
    oral_morphine_mg_per_mg: dict[Route, FractionField] | None = None
    conversion_source: str | None = None

    def quantity_limits(self) -> dict[str, DrugLimit]:
        """Every limit with a quantity value that this drug sets, by field name."""
        found = {name: getattr(self, name) for name in _LIMIT_KINDS}
        return {name: limit for name, limit in found.items() if limit is not None}

    @model_validator(mode="after")
    def _dimensions(self) -> DrugEntry:
        for name, kind in _LIMIT_KINDS.items():
            limit = getattr(self, name)
            if limit is not None and limit.value.dimension != kind.value:
                raise ValueError(f"{name} {limit.value} must be a {kind.label}")
            if limit is not None and not limit.value.is_positive():
                raise ValueError(f"{name} {limit.value} must be above zero")
        for name in ("hard_max_daily_dose", "hard_max_bolus"):
            if getattr(self, name).kind is not LimitKind.HARD:
                raise ValueError(f"{name} must be a hard limit")
        for soft, hard in (("max_daily_dose", "hard_max_daily_dose"),
                           ("max_bolus", "hard_max_bolus")):
            usual = getattr(self, soft)
            if usual is not None and usual.value > getattr(self, hard).value:
                raise ValueError(f"{soft} {usual.value} is above {hard} "
                                 f"{getattr(self, hard).value}")
        if self.display_unit not in ("mg", "mcg"):
            raise ValueError(f"display_unit {self.display_unit!r} must be mg or mcg")
        if self.oral_morphine_mg_per_mg is not None:
            if set(self.oral_morphine_mg_per_mg) != set(Route):
                raise ValueError("oral_morphine_mg_per_mg needs a factor for every route")
            if any(factor <= 0 for factor in self.oral_morphine_mg_per_mg.values()):
                raise ValueError("oral_morphine_mg_per_mg factors must be above zero")
        return self

    def start_range(self, tolerant: bool) -> DoseRange:
        """The usual starting range: for opioid-tolerant patients when the library has one."""
        if tolerant and self.start_daily_dose_tolerant is not None:
            return self.start_daily_dose_tolerant
        return self.start_daily_dose

    @property
    def dose_unit(self) -> str:
        """Daily-dose display unit: "mg/day" or "mcg/day"."""
        return f"{self.display_unit}/day"


class ConversionPolicy(BaseModel):
    """How the library converts systemic opioid to a starting intrathecal dose."""

    model_config = _FROZEN
    start_ratio_oral_to_intrathecal: FractionField
    start_ratio_range_low: FractionField
    start_ratio_range_high: FractionField
    start_ratio_source: str
    side_effect_switch_ratio: FractionField
    side_effect_switch_source: str
    frail_reduction_percent: int
    frail_reduction_source: str
    monitoring: str

    @model_validator(mode="after")
    def _sane(self) -> ConversionPolicy:
        low, start, high = (
            self.start_ratio_range_low,
            self.start_ratio_oral_to_intrathecal,
            self.start_ratio_range_high,
        )
        if not 0 < low <= start <= high:
            raise ValueError("start ratio must lie inside its range, all above zero")
        if not 0 <= self.frail_reduction_percent < 100:
            raise ValueError("frail_reduction_percent must be 0-99")
        return self


class LibraryInfo(BaseModel):
    """Who issued the library, and its version: dotted whole numbers ("2026.11.29")."""

    model_config = _FROZEN
    name: str
    version: str
    issued_by: str

    @model_validator(mode="after")
    def _version(self) -> LibraryInfo:
        try:
            parse_version(self.version)
        except RollbackError as exc:
            raise ValueError(str(exc)) from None
        return self


class LibraryData(BaseModel):
    model_config = _FROZEN
    library: LibraryInfo
    conversion: ConversionPolicy
    drugs: dict[str, DrugEntry]


@dataclass(frozen=True)
class DrugLibrary:
    """A verified library: its data, the file it came from and the key that signed it."""

    data: LibraryData
    path: Path
    signed_by: str

    @property
    def drugs(self) -> dict[str, DrugEntry]:
        return self.data.drugs

    @property
    def conversion(self) -> ConversionPolicy:
        return self.data.conversion

    def drug(self, key: str) -> DrugEntry:
        """The entry for `key` (case-insensitive), or a LibraryError listing what is there."""
        entry = self.data.drugs.get(key.strip().lower())
        if entry is None:
            raise LibraryError(
                f"drug {key!r} is not in the library {self.data.library.name!r}; "
                f"it has: {', '.join(sorted(self.data.drugs))}"
            )
        return entry


def reference_library_path() -> Path:
    """The reference library shipped with the package."""
    return Path(str(resources.files("idds.drugs") / "data" / "library.toml"))


def parse_library(raw: dict[str, Any], origin: Path) -> LibraryData:
    try:
        return LibraryData.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise LibraryError(f"{origin}: {where}: {first['msg']}") from exc


def load_library(path: Path | None = None, trust: TrustStore | None = None,
                 record: VersionRecord | None = None) -> DrugLibrary:
    """Verify and load a library: `path`, else $IDDS_LIBRARY, else the reference library.

    With `record`, a library older than the newest version recorded for its name is refused
    (`RollbackError`), and a newer one is recorded."""
    chosen = path or Path(os.environ.get(LIBRARY_ENV) or reference_library_path())
    raw, signer = verify_file(chosen, trust or TrustStore.default())
    library = DrugLibrary(parse_library(raw, chosen), chosen, signer)
    if record is not None:
        info = library.data.library
        record.admit(info.name, info.version, signer)
    return library


@dataclass
class LibraryHolder:
    """The library in force. A failed replacement leaves the previous one in force."""

    current: DrugLibrary
    rejected: list[str] = field(default_factory=list)

    def replace(self, path: Path, trust: TrustStore | None = None) -> DrugLibrary:
        """Load `path` in place of the current library; refused (and the current one kept)
        if unsigned, tampered, untrusted, malformed, or older than the current one."""
        try:
            candidate = load_library(path, trust)
            new, old = candidate.data.library, self.current.data.library
            check_not_older(new.name, new.version, old.name, old.version)
        except IddsError as exc:
            self.rejected.append(str(exc))
            raise
        self.current = candidate
        return candidate
